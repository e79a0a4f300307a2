"""A small, valid registry written into tmp_path, with helpers to break it one line at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from bzdata.registry import Registry, load_registry

FILES: dict[str, str] = {
    "departments.yaml": """\
departments:
  - code: gaj
    name: 滨州市公安局
    short_name: 市公安局
  - code: wjw
    name: 滨州市卫生健康委员会
    short_name: 市卫健委
  - code: mzj
    name: 滨州市民政局
    short_name: 市民政局
  - code: dsj
    name: 滨州市大数据局
    short_name: 市大数据局
""",
    "code_lists.yaml": """\
code_lists:
  - id: gender
    name: 性别代码
    standard: GB/T 2261.1-2003
    values:
      "1": 男性
      "2": 女性
""",
    "data_elements.yaml": """\
data_elements:
  - id: citizen_id
    name: 公民身份号码
    type: string
    format: ric
    authority: gaj
    personal: true
  - id: person_name
    name: 姓名
    type: string
    authority: gaj
    personal: true
  - id: gender
    name: 性别
    type: string
    format: code_list
    code_list: gender
    authority: gaj
    personal: false
  - id: marriage_date
    name: 登记日期
    type: date
    min: 1950-01-01
    authority: mzj
    personal: false
  - id: updated_at
    name: 更新时间
    type: datetime
    authority: dsj
    personal: false
""",
    "indicators.yaml": """\
indicators:
  - no: 1
    name: 5G用户普及率
    unit: "%"
    target: 56
    comparator: ">="
    attribute: 预期性
    category: 数字基础设施建设指标
    source: reported
  - no: 2
    name: 全市数据中心PUE
    unit: ""
    target: 1.3
    comparator: "<="
    attribute: 约束性
    category: 数字基础设施建设指标
    source: reported
  - no: 3
    name: 信息资源部门间共享需求满足率
    unit: "%"
    target: 100
    comparator: ">="
    attribute: 约束性
    category: 数据要素生态指标
    source: computed
    department: dsj
""",
    "datasets/gaj_hjrk.yaml": """\
id: gaj_hjrk
resource_code: 371600-GAJ-0001
name: 户籍人口基本信息
provider: gaj
category: 基础
library: 人口
abstract: 全市户籍人口基本信息
format: 数据库
share: {type: 有条件共享, condition: 政务部门依法履职需要}
open: {type: 不予开放, condition: 涉及个人信息}
update_cycle: 每月
publish_date: 2023-03-01
security_level: 重要
extract: snapshot
record_key: [citizen_id]
delivery:
  channel: frontdb
  table: t_rk_hjxx
  watermark: gxsj
  due_day: 5
fields:
  - {column: citizen_id, header: gmsfhm, element: citizen_id, required: true}
  - {column: person_name, header: xm, element: person_name, required: true}
  - {column: gender, header: xb, element: gender}
  - {column: updated_at, header: gxsj, element: updated_at, required: true}
""",
    "datasets/mzj_hydj.yaml": """\
id: mzj_hydj
resource_code: 371600-MZJ-0001
name: 婚姻登记信息
provider: mzj
category: 部门
abstract: 结婚和离婚登记
format: 电子文件
share: {type: 有条件共享, condition: 经审核后共享}
open: {type: 不予开放, condition: 涉及个人信息}
update_cycle: 每月
publish_date: 2023-03-01
security_level: 重要
extract: increment
record_key: [male_id, marriage_date]
delivery:
  channel: file
  format: csv
  encoding: gbk
  file_name: "婚姻登记_{period}.csv"
  due_day: 10
fields:
  - column: male_id
    header: 男方身份号码
    element: citizen_id
    required: true
  - column: female_id
    header: 女方身份号码
    element: citizen_id
    required: true
  - column: marriage_date
    header: 登记日期
    element: marriage_date
    required: true
    type: string
""",
    "datasets/wjw_csyxzm.yaml": """\
id: wjw_csyxzm
resource_code: 371600-WJW-0001
name: 出生医学证明
provider: wjw
category: 基础
library: 人口
abstract: 新生儿出生医学证明
format: 电子文件
share: {type: 无条件共享}
open: {type: 不予开放, condition: 涉及个人信息}
update_cycle: 每月
publish_date: 2023-03-01
security_level: 一般
extract: increment
record_key: [mother_id]
delivery:
  channel: file
  format: xlsx
  title_rows: 1
  file_name: "出生医学证明_{period}.xlsx"
  due_day: 5
fields:
  - {column: mother_id, header: 母亲身份号码, element: citizen_id, required: true}
  - {column: mother_name, header: 母亲姓名, element: person_name, personal: false}
""",
}


class FixtureRegistry:
    """The fixture registry on disk, with helpers to edit it and locate lines."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for name, text in FILES.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    def text(self, file: str) -> str:
        return (self.root / file).read_text(encoding="utf-8")

    def edit(self, file: str, old: str, new: str) -> None:
        text = self.text(file)
        assert text.count(old) == 1, f"{old!r} must occur once in {file}"
        (self.root / file).write_text(text.replace(old, new), encoding="utf-8")

    def line_of(self, file: str, fragment: str) -> int:
        """1-based line of the only line containing `fragment`."""
        hits = [n for n, line in enumerate(self.text(file).splitlines(), 1) if fragment in line]
        assert len(hits) == 1, f"{fragment!r} must be on exactly one line of {file}: {hits}"
        return hits[0]

    def load(self) -> Registry:
        return load_registry(self.root)


@pytest.fixture
def reg(tmp_path: Path) -> FixtureRegistry:
    root = tmp_path / "registry"
    root.mkdir()
    return FixtureRegistry(root)
