-- 指标库: the plan's 45 indicators (catalog/registry/indicators.yaml) for the build period, with
-- a value where the platform computes it from the registry and its own libraries (42, 43, 45).
-- 44 is the 需求满足率 of the 共享需求清单, computed when the catalogue is rebuilt after this
-- build (lake/catalog/demand_satisfaction); reported indicators come from the departments'
-- returns (lake/indicators). bzdata.indicators.library joins all three per period.

with

indicators as (

    select * from {{ ref('int_registry__indicators') }}

),

datasets as (

    select * from {{ ref('int_registry__datasets') }}

),

code_lists as (

    select * from {{ ref('int_registry__code_lists') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

-- 42: open (not 不予开放) among non-secret (not 核心) datasets; 43: rows of open datasets.
dataset_measures as (

    select
        100.0 * count(*) filter (
            where datasets.open_type != '不予开放' and datasets.security_level != '核心'
        ) / nullif(count(*) filter (where datasets.security_level != '核心'), 0) as open_rate,
        coalesce(
            sum(datasets.row_count) filter (where datasets.open_type != '不予开放'), 0
        ) / 1e8 as open_rows_100m
    from datasets

),

-- 45: code lists the platform defines without a national standard, plus the 数据元标准
-- (the registry's data element catalogue) as one standard.
standard_measures as (

    select count(*) filter (where code_lists.standard is null) + 1 as standard_count
    from code_lists

),

computed as (

    select
        42 as indicator_no,
        dataset_measures.open_rate as indicator_value,
        '登记簿中安全级别非核心的数据集里，开放属性不是不予开放的比例' as method_note
    from dataset_measures

    union all

    select
        43 as indicator_no,
        dataset_measures.open_rows_100m as indicator_value,
        '开放属性不是不予开放的数据集，截至报送期最新状态的记录数合计（亿条）' as method_note
    from dataset_measures

    union all

    select
        45 as indicator_no,
        cast(standard_measures.standard_count as double) as indicator_value,
        '平台自定代码表（无国家或行业标准依据）个数加数据元标准 1 项' as method_note
    from standard_measures

),

final as (

    select
        build_period.target_period as period,
        indicators.indicator_no,
        indicators.indicator_name,
        indicators.unit,
        indicators.category,
        indicators.indicator_attribute,
        indicators.comparator,
        indicators.target_value,
        indicators.value_source,
        indicators.department,
        computed.indicator_value,
        case
            when computed.indicator_no is not null then computed.method_note
            when indicators.indicator_no = 44
                then '共享需求清单中已到期需求的满足率（已满足/已到期），目录重建时计算'
            when indicators.department is not null then '由责任部门通过指标填报渠道报送'
            else '登记簿未明确责任部门，平台汇聚的数据不含该指标所需数据'
        end as method_note,
        case
            when computed.indicator_no is not null then '已计算'
            when indicators.indicator_no = 44 then '需求清单'
            when indicators.department is not null then '部门填报'
            else '无责任部门'
        end as value_status,
        case
            when computed.indicator_value is null then null
            when indicators.comparator = '>='
                then least(computed.indicator_value / nullif(indicators.target_value, 0), 1.0)
            when computed.indicator_value <= 0 then 1.0
            else least(indicators.target_value / computed.indicator_value, 1.0)
        end as completion_rate,
        case
            when computed.indicator_value is null then null
            when indicators.comparator = '>=' then computed.indicator_value >= indicators.target_value
            else computed.indicator_value <= indicators.target_value
        end as is_met
    from indicators
    cross join build_period
    left join computed on indicators.indicator_no = computed.indicator_no

)

select * from final
