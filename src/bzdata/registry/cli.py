"""`bzdata registry …`: check the registry and show what it says about an element or dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bzdata.registry.loader import RegistryError, default_root, load_registry
from bzdata.registry.models import DataElement, Dataset, Registry, did_you_mean


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `registry` with its subcommands `check` and `show`."""
    parser = subparsers.add_parser(
        "registry",
        help="注册表：校验部门、数据元、数据集和指标，查看一数一源",
        description="注册表（catalog/registry/）的校验与查询。",
    )
    _add_root_option(parser, default=None)
    parser.set_defaults(func=lambda args: _usage(parser))
    commands = parser.add_subparsers(title="子命令", dest="registry_command", metavar="<子命令>")

    check = commands.add_parser(
        "check",
        help="校验注册表并汇总",
        description="校验注册表的全部文件；通过时汇总各类条目数量，否则列出每处问题（文件、行、字段）。",
    )
    _add_root_option(check, default=argparse.SUPPRESS)
    check.set_defaults(func=run_check)

    show = commands.add_parser(
        "show",
        help="查看一个数据元或数据集",
        description="数据元：名称、权威来源部门、持有副本的部门；数据集：核心元数据和信息项。",
    )
    show.add_argument(
        "id", metavar="ID", help="数据元 id（如 citizen_id）或数据集 id（如 gaj_hjrk）"
    )
    _add_root_option(show, default=argparse.SUPPRESS)
    show.set_defaults(func=run_show)


def _add_root_option(parser: argparse.ArgumentParser, default: object) -> None:
    # Accepted before or after the subcommand; SUPPRESS keeps the subcommand from clearing it.
    parser.add_argument(
        "--root",
        metavar="DIR",
        default=default,
        help="注册表目录（默认 catalog/registry，可用环境变量 BZDATA_REGISTRY 指定）",
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _load(args: argparse.Namespace) -> Registry | None:
    root = Path(args.root).expanduser() if getattr(args, "root", None) else None
    try:
        return load_registry(root)
    except RegistryError as exc:
        print(exc, file=sys.stderr)
        return None


def run_check(args: argparse.Namespace) -> int:
    registry = _load(args)
    if registry is None:
        return 1
    root = getattr(args, "root", None)
    print(summary(registry, Path(root).expanduser() if root else default_root()))
    return 0


def summary(registry: Registry, root: Path) -> str:
    """The Chinese summary printed by `bzdata registry check`."""
    datasets = registry.datasets
    libraries = "、".join(
        f"{name} {len(items)}" for name, items in registry.base_libraries().items()
    )
    by_category = {
        kind: sum(d.category == kind for d in datasets) for kind in ("基础", "主题", "部门")
    }
    personal = sum(element.personal for element in registry.data_elements)
    computed = sum(item.source == "computed" for item in registry.indicators)
    return "\n".join(
        [
            f"注册表校验通过：{root}",
            f"部门：{len(registry.departments)} 个",
            f"数据集：{len(datasets)} 个（基础 {by_category['基础']}、主题 {by_category['主题']}、"
            f"部门 {by_category['部门']}）",
            f"  基础库：{libraries}",
            f"数据元：{len(registry.data_elements)} 个（其中个人信息 {personal} 个）",
            f"代码表：{len(registry.code_lists)} 个",
            f"指标：{len(registry.indicators)} 项（平台计算 {computed} 项，部门填报 "
            f"{len(registry.indicators) - computed} 项）",
        ]
    )


def run_show(args: argparse.Namespace) -> int:
    registry = _load(args)
    if registry is None:
        return 1
    parts = []
    if args.id in {element.id for element in registry.data_elements}:
        parts.append(describe_element(registry, registry.element(args.id)))
    if args.id in {dataset.id for dataset in registry.datasets}:
        parts.append(describe_dataset(registry, registry.dataset(args.id)))
    if not parts:
        known = [e.id for e in registry.data_elements] + [d.id for d in registry.datasets]
        print(
            f"未找到 '{args.id}'{did_you_mean(args.id, known)}：应为数据元 id 或数据集 id",
            file=sys.stderr,
        )
        return 1
    print("\n\n".join(parts))
    return 0


def _dept(registry: Registry, code: str) -> str:
    return f"{registry.department(code).name}（{code}）"


def describe_element(registry: Registry, element: DataElement) -> str:
    """What `show` prints for a data element: authority, copy holders, where it appears."""
    holders = registry.copy_holders(element.id)
    lines = [
        f"数据元 {element.id}：{element.name}",
        f"  类型：{element.type}" + (f"，格式 {element.format}" if element.format else ""),
    ]
    if element.code_list:
        code_list = registry.code_list(element.code_list)
        lines.append(
            f"  代码表：{code_list.name}（{code_list.id}，{len(code_list.values)} 个代码）"
        )
    if element.min is not None or element.max is not None:
        lines.append(
            f"  取值范围：{element.min if element.min is not None else ''} ~ "
            f"{element.max if element.max is not None else ''}"
        )
    lines += [
        f"  个人信息：{'是' if element.personal else '否'}",
        f"  权威来源部门（一数一源）：{_dept(registry, element.authority)}",
        "  持有副本的部门："
        + ("、".join(f"{d.name}（{d.code}）" for d in holders) if holders else "无"),
    ]
    if element.description:
        lines.append(f"  说明：{element.description}")
    uses = registry.fields_of_element(element.id)
    lines.append(f"  出现在 {len(uses)} 个信息项：")
    lines += [f"    {dataset.id}.{item.column}（{item.header}）" for dataset, item in uses]
    return "\n".join(lines)


def describe_dataset(registry: Registry, dataset: Dataset) -> str:
    """What `show` prints for a dataset: core metadata, delivery and its fields."""
    delivery = dataset.delivery
    if dataset.is_frontdb:
        channel = f"前置库表 {delivery.table}，水位线列 {delivery.watermark}"
    else:
        encoding = f"，编码 {delivery.encoding}" if delivery.encoding else ""
        channel = f"文件 {delivery.file_name}（{delivery.format}{encoding}）"
    if delivery.due_day is not None:
        channel += f"，次月 {delivery.due_day} 日前报送"
    category = dataset.category + (f"（{dataset.library}库）" if dataset.library else "")
    lines = [
        f"数据集 {dataset.id}：{dataset.name}",
        f"  资源代码：{dataset.resource_code}",
        f"  提供部门：{_dept(registry, dataset.provider)}",
        f"  资源分类：{category}",
        f"  摘要：{dataset.abstract}",
        f"  资源格式：{dataset.format}；更新周期：{dataset.update_cycle}；"
        f"发布日期：{dataset.publish_date}",
        f"  共享属性：{dataset.share.type}" + _condition(dataset.share.condition),
        f"  开放属性：{dataset.open.type}" + _condition(dataset.open.condition),
        f"  安全级别：{dataset.security_level}",
        f"  抽取方式：{'全量快照' if dataset.extract == 'snapshot' else '增量'}；"
        f"记录主键：{', '.join(dataset.record_key)}",
        f"  报送方式：{channel}",
        f"  信息项（{len(dataset.fields)} 项）：",
    ]
    for item in dataset.fields:
        element = registry.element(item.element)
        flags = [flag for flag, on in (("必填", item.required), ("个人信息", item.personal)) if on]
        note = f"，{'、'.join(flags)}" if flags else ""
        lines.append(
            f"    {item.column}  {item.header}  → {element.id}（{element.name}），{item.type}{note}"
        )
    return "\n".join(lines)


def _condition(condition: str | None) -> str:
    return f"：{condition}" if condition else ""
