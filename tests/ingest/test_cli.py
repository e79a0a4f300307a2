"""`bzdata ingest` and `bzdata status` on a small work folder."""

from __future__ import annotations

import json
import os
from datetime import datetime

from bzdata.cli import main
from bzdata.ingest import Paths
from bzdata.registry import load_registry

BIRTH = "wjw_csyxzm"


def _work_with_one_file(tmp_path):
    work = tmp_path / "work"
    paths = Paths.from_work(work)
    ds = load_registry().dataset(BIRTH)
    folder = paths.landing / ds.provider / ds.id / "2023-01"
    folder.mkdir(parents=True)
    path = folder / "出生医学证明_202301.csv"
    row = "Q371600000,37162120230112075X,任军振,1,2023-01-12,371621199804191747,贾涵,医院"
    path.write_text(",".join(ds.headers) + "\n" + row + "\nQ1,2\n", encoding="utf-8")
    stamp = datetime(2023, 2, 3, 10).timestamp()
    os.utime(path, (stamp, stamp))
    return work, paths


def test_ingest_then_status(tmp_path, capsys):
    work, paths = _work_with_one_file(tmp_path)
    assert main(["ingest", "--period", "2023-01", "--work", str(work)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == [
        "期次",
        "数据集",
        "部门",
        "状态",
        "文件",
        "读取",
        "入库",
        "拒收",
        "迟报",
        "编码",
    ]
    line = next(li for li in out.splitlines() if BIRTH in li and li.startswith("2023-01"))
    assert line.split()[3:8] == ["已入库", "1", "2", "1", "1"]
    assert "前置库通道未配置" in out  # work/synth/frontdb holds no 前置库 files
    assert paths.database.is_file()

    assert main(["status", "--json", "--work", str(work), "--period", "2023-01"]) == 0
    summaries = {s["dataset"]: s for s in json.loads(capsys.readouterr().out)}
    birth = summaries[BIRTH]
    assert (birth["rows_read"], birth["rows_accepted"], birth["rows_rejected"]) == (2, 1, 1)
    assert birth["statuses"] == {"loaded": 1} and birth["encodings"] == ["utf-8"]
    assert summaries["rsj_shbx"]["statuses"] == {"missing": 1}
    assert "fgw_xypj" not in summaries  # quarterly, not due in January


def test_status_before_any_ingest(tmp_path, capsys):
    assert main(["status", "--work", str(tmp_path)]) == 0
    assert "尚无任何一期的汇聚记录" in capsys.readouterr().out


def test_ingest_without_landing_zone_explains(tmp_path, capsys):
    assert main(["ingest", "--period", "2023-01", "--work", str(tmp_path)]) == 2
    assert "请先运行 bzdata synth" in capsys.readouterr().err


def test_bad_period_is_refused_in_chinese(tmp_path, capsys):
    assert main(["ingest", "--period", "2023-13", "--work", str(tmp_path)]) == 2
    assert "期次应为 YYYY-MM 格式" in capsys.readouterr().err
