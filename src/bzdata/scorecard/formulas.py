"""The 计算方法 text of every score, written from the configuration that was used, so the
report, the workbook and scores.json state exactly the formula and weights behind each number."""

from __future__ import annotations

from bzdata.scorecard.compute import SECTION_SQL
from bzdata.scorecard.config import DIMENSIONS, SECTION_NAMES, SECTIONS, ScorecardConfig


def _g(value: float) -> str:
    return f"{value:g}"


def composite(cfg: ScorecardConfig) -> str:
    terms = " + ".join(f"{_g(cfg.weights.of(s))}×{SECTION_NAMES[s]}得分" for s in SECTIONS)
    return (
        f"综合得分 = ({terms}) ÷ 参评分项的权重之和。"
        "某分项本期无法计算时不参评，其权重不计入分母。"
        "排名按综合得分（保留两位小数）从高到低，得分相同名次并列；"
        "名次变化 = 上期名次 − 本期名次（正数为上升）。"
    )


def methods(cfg: ScorecardConfig) -> dict[str, dict[str, str]]:
    """Per section: formula, what each figure is, and the source tables (all Chinese)."""
    c, k, q, r = cfg.catalog, cfg.collection, cfg.quality, cfg.rectification
    dims = "、".join(f"{d}×{_g(q.dimensions[d])}" for d in DIMENSIONS)
    floor = _g(q.pass_rate_floor * 100)
    return {
        "catalog": {
            "formula": (
                f"编目得分 = 100 × ({_g(c.qualified_weight)} × 编目合格率 + "
                f"{_g(1 - c.qualified_weight)} × 元数据完整率) − {_g(c.warning_penalty)} × 警告数，"
                "截断到 0–100。"
            ),
            "figures": (
                "已登记数据集：资源目录（catalog/registry/datasets）中本部门为提供方的数据集数；"
                "编目合格：其中没有“错误”级编目问题的数据集数，编目合格率 = 编目合格 ÷ 已登记；"
                "元数据完整率 = 已填写的 GB/T 21063.3 核心元数据项 ÷ 应填项"
                "（每个数据集 14 项：分类、名称、代码、提供方、提供方代码、摘要、格式、信息项、"
                "共享类型、共享条件、开放类型、开放条件、更新周期、发布日期；无须条件时条件项视为已填）；"
                f"编目检查规则 BM01–BM15（如缺少摘要或提供方、名称重复、信息项缺少数据类型、"
                f"摘要少于 {c.min_abstract_chars} 字等）分“错误”和“警告”两级。"
            ),
            "sources": "catalog/registry/departments.yaml、data_elements.yaml、datasets/*.yaml"
            "（本期快照见 inputs/catalog_entries.parquet、inputs/catalog_findings.parquet）",
        },
        "collection": {
            "formula": (
                f"归集得分 = 100 × (按时数 + {_g(k.late_credit)} × 逾期数) ÷ 应报数 × "
                f"(1 − 拒收行占比) − {_g(k.quarantine_penalty)} × 隔离文件数，截断到 0–100；"
                "本期无应报数据集时不参评。"
            ),
            "figures": (
                "应报数：按更新周期本期应报送的数据集数"
                "（每月：每期；每季：3/6/9/12 月；每年：12 月）；"
                "按时：有已入库（loaded）且未逾期的报送；逾期：有已入库报送但都晚于截止时间；"
                "缺报：没有任何已入库报送（含只有隔离或重复文件）；"
                "接收行数、拒收行数：已入库报送的 rows_accepted、rows_rejected 之和，"
                "拒收行占比 = 拒收行数 ÷ 读取行数；隔离文件：状态为 quarantined 的文件数。"
            ),
            "sources": "lake/manifest/period=<月份>/*.parquet（归集清单），"
            "资源目录中的更新周期（inputs/expected_deliveries.parquet）",
        },
        "quality": {
            "formula": (
                "质量得分 = Σ(维度权重 × 维度得分) ÷ Σ(有检查记录的维度的权重)；"
                f"维度得分 = 100 × (通过率 − {floor}%) ÷ (100% − {floor}%)，截断到 0–100；"
                f"维度权重：{dims}。本期没有质量检查结果时不参评。"
            ),
            "figures": (
                "维度通过率 = 1 − Σ未通过记录数 ÷ Σ检查记录数（同一维度的全部规则，"
                "检查出错的规则不计入并单列）；未整改问题：本期问题清单的行数（每条记录每个字段一行），"
                "按严重程度（严重、一般、提示）分列；检查记录数：每个数据集取其规则中最大的检查记录数再相加；"
                "每万条记录问题数 = 问题数 ÷ 检查记录数 × 10000。"
            ),
            "sources": "lake/quality/rule_results/period=<月份>/rule_results.parquet、"
            "lake/quality/issues/period=<月份>/issues.parquet",
        },
        "rectification": {
            "formula": (
                f"整改得分 = 100 × (已整改数 − {_g(r.reopen_weight)} × 复发数) ÷ 上期未整改问题数，"
                "截断到 0–100；上期没有问题时得 100 分；上期或本期没有问题状态表时不参评。"
            ),
            "figures": (
                "上期未整改问题：上期问题状态表中状态不是“已整改”（rectified）的问题；"
                "已整改：这些问题在本期状态表中为 rectified；整改率 = 已整改 ÷ 上期未整改问题；"
                "复发：本期状态为 reopened 的问题（曾整改后再次出现）；"
                "整改用时中位数：本期整改的问题从首次发现期到本期相隔的月数的中位数。"
            ),
            "sources": "lake/quality/issue_status/period=<上期>/issue_status.parquet 与 "
            "period=<本期>/issue_status.parquet（按 issue_id 关联）",
        },
    }


def sql_text() -> dict[str, str]:
    """The SQL each section's figures come from, as printed in the report."""
    return {section: sql.strip() for section, sql in SECTION_SQL.items()}
