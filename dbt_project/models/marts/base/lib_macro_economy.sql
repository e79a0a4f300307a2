-- 宏观经济基础库: one row per county, month and indicator reported by 统计局 (tjj_zyjjzb, every
-- month up to the build period); each value carries its department and period.

with

indicators as (

    select * from {{ ref('int_tjj__zyjjzb__latest') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

final as (

    select
        build_period.target_period as period,
        indicators.admin_region,
        indicators.report_month,
        indicators.stat_item,
        indicators.stat_value,
        indicators._dept as stat_value_source_dept,
        indicators.period as stat_value_source_period,
        indicators.admin_region_is_valid,
        indicators.stat_item_is_valid
    from indicators
    cross join build_period

)

select * from final
