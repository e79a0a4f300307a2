"""A city-sized resource catalogue: thousands of 资源目录 entries registered by the departments
but not delivered through the platform, in the style of Shandong's 公共数据开放网 (名称, 摘要,
信息项, 共享/开放属性, 更新周期). Deterministic by seed.

    generate_catalogue(out_file, registry, n=6000, seed=…)  one JSON object per line (Entry)
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from bzdata.catalog.model import Entry, FieldInfo
from bzdata.ids.region import COUNTIES
from bzdata.registry import Registry

# Subjects each department keeps records of, with the 信息项 typical of them.
_SUBJECTS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "gaj": (
        ("机动车驾驶人", ("姓名", "准驾车型", "初次领证日期", "记分")),
        ("流动人口居住登记", ("姓名", "居住地址", "登记日期", "居住事由")),
        ("户口迁移", ("姓名", "迁出地", "迁入地", "迁移日期")),
        ("交通违法处理", ("号牌号码", "违法地点", "违法时间", "处理状态")),
    ),
    "scjgj": (
        ("个体工商户登记", ("字号名称", "经营者", "经营场所", "成立日期")),
        ("食品经营许可", ("许可证编号", "经营者名称", "经营项目", "有效期至")),
        ("特种设备使用登记", ("设备类别", "使用单位", "登记证编号", "检验日期")),
        ("企业年报", ("统一社会信用代码", "企业名称", "从业人数", "报送日期")),
    ),
    "rsj": (
        ("就业登记", ("姓名", "用人单位", "就业日期", "就业形式")),
        ("职业技能等级证书", ("姓名", "职业工种", "等级", "发证日期")),
        ("失业保险金发放", ("姓名", "发放月份", "发放金额", "经办机构")),
    ),
    "wjw": (
        ("医疗机构执业登记", ("机构名称", "执业地址", "诊疗科目", "登记号")),
        ("预防接种", ("受种者", "疫苗名称", "接种日期", "接种单位")),
        ("医师执业注册", ("姓名", "执业类别", "执业范围", "注册日期")),
    ),
    "mzj": (
        ("养老机构", ("机构名称", "床位数", "地址", "法定代表人")),
        ("社会组织登记", ("组织名称", "登记证号", "业务主管单位", "成立日期")),
        ("地名信息", ("标准名称", "地名类别", "所在政区", "罗马字母拼写")),
    ),
    "zrzyj": (
        ("建设用地规划许可", ("项目名称", "用地单位", "用地面积", "发证日期")),
        ("耕地保护目标", ("行政区", "耕地面积", "永久基本农田面积", "年度")),
        ("地质灾害隐患点", ("隐患点名称", "灾害类型", "威胁人数", "所在位置")),
    ),
    "swj": (
        ("发票开具汇总", ("纳税人识别号", "开票月份", "开票金额", "税额")),
        ("欠税公告", ("纳税人名称", "欠税税种", "欠税余额", "公告日期")),
    ),
    "gdgs": (
        ("供电营业厅", ("营业厅名称", "地址", "营业时间", "联系电话")),
        ("电力用户停电计划", ("停电区域", "停电时间", "恢复时间", "停电原因")),
    ),
    "tjj": (
        ("规模以上工业企业", ("企业名称", "行业代码", "工业总产值", "统计月份")),
        ("居民消费价格指数", ("指标名称", "统计月份", "同比", "环比")),
    ),
    "fgw": (
        ("政府定价目录", ("项目名称", "定价部门", "定价范围", "执行日期")),
        ("信用承诺", ("承诺主体", "承诺事项", "承诺日期", "履约状态")),
    ),
    "dsj": (
        ("政务服务事项", ("事项名称", "实施主体", "办理时限", "办理地点")),
        ("一网通办办件", ("办件编号", "事项名称", "受理日期", "办结日期")),
    ),
    "zjj": (
        ("建设工程施工许可", ("工程名称", "建设单位", "施工单位", "发证日期")),
        ("物业服务企业", ("企业名称", "服务项目", "项目地址", "资质等级")),
        ("公共租赁住房", ("小区名称", "套数", "户型面积", "配租对象")),
    ),
}
_KINDS = (
    "基本信息",
    "登记信息",
    "统计信息",
    "办理结果",
    "名录",
    "变更信息",
    "年度汇总",
    "月度汇总",
)
_USES = ("政务服务", "城市治理", "社会信用体系建设", "统计分析", "应急管理", "便民查询")
_CYCLES = ("实时", "每日", "每周", "每月", "每季", "每年")
_SHARE = ("无条件共享", "有条件共享", "不予共享")
_OPEN = ("无条件开放", "有条件开放", "不予开放")
_LEVELS = ("一般", "重要")
_FORMATS = ("数据库", "电子表格", "接口")


def city_entries(registry: Registry, n: int = 6000, seed: int = 20230101) -> list[Entry]:
    """`n` registered-but-not-delivered entries spread over every department."""
    rng = random.Random(seed)
    scopes = ["全市", *COUNTIES.values()]
    departments = [d for d in registry.departments if d.code in _SUBJECTS]
    out: list[Entry] = []
    seen: set[str] = set()
    numbers = {d.code: 100 for d in departments}
    attempts = 0
    while len(out) < n and attempts < n * 20:
        attempts += 1
        dept = departments[len(out) % len(departments)]
        subject, items = rng.choice(_SUBJECTS[dept.code])
        scope = rng.choice(scopes)
        kind = rng.choice(_KINDS)
        year = rng.choice(("", "2021年", "2022年", "2023年"))
        name = f"{scope}{year}{subject}{kind}"
        if name in seen and attempts < n * 3:
            continue
        if name in seen:  # a catalogue beyond the vocabulary: batches of the same resource
            name = f"{name}（第{len(out)}批）"
        seen.add(name)
        numbers[dept.code] += 1
        code = f"371600-{dept.code.upper()}-{numbers[dept.code]:04d}"
        cycle = rng.choice(_CYCLES)
        share = rng.choices(_SHARE, weights=(5, 4, 1))[0]
        open_ = rng.choices(_OPEN, weights=(3, 4, 3))[0]
        headers = (*items, *rng.sample(("统计日期", "行政区划", "数据来源", "备注", "更新时间"), 2))
        abstract = (
            f"{scope}{subject}{kind}，包括{'、'.join(items)}等信息项，由{dept.short_name}"
            f"{cycle}更新，可用于{rng.choice(_USES)}。"
        )
        out.append(
            Entry(
                id=f"reg_{dept.code}_{numbers[dept.code]:04d}",
                kind="dataset",
                layer="资源目录",
                name=name,
                abstract=abstract,
                resource_code=code,
                provider=dept.code,
                provider_name=dept.name,
                category="部门",
                format=rng.choice(_FORMATS),
                share=share,
                share_condition=None if share == "无条件共享" else "按政务部门履职需要申请",
                open=open_,
                open_condition=None if open_ == "无条件开放" else "依申请开放",
                update_cycle=cycle,
                publish_date=f"{rng.choice((2021, 2022, 2023))}-{rng.randint(1, 12):02d}-01",
                security_level=rng.choice(_LEVELS),
                owner=dept.code,
                delivered=False,
                fields=tuple(FieldInfo(name=f"f{i + 1}", header=h) for i, h in enumerate(headers)),
            )
        )
    return out


def generate_catalogue(
    out_file: Path | str, registry: Registry, n: int = 6000, seed: int = 20230101
) -> Path:
    """Write the city catalogue as JSON lines (atomically); same seed, same bytes."""
    path = Path(out_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    with staging.open("w", encoding="utf-8") as handle:
        for entry in city_entries(registry, n, seed):
            handle.write(json.dumps(entry.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staging, path)
    return path
