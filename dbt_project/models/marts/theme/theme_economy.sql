-- 经济运行主题库: one row per county for the build period: market entities by status and by
-- 三次产业, the month's tax and electricity of entities registered there, investment projects
-- and 统计局's main indicators of the month.

with

entities as (

    select * from {{ ref('lib_legal_entity') }}

),

tax_returns as (

    select * from {{ ref('int_swj__nssb__latest') }}

),

power_bills as (

    select * from {{ ref('int_gdgs__ydl__latest') }}

),

projects as (

    select * from {{ ref('int_fgw__tzxm__latest') }}

),

statistics as (

    select * from {{ ref('lib_macro_economy') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

-- 1 存续, 2 吊销, 3 注销, 4 迁出; 门类 A 第一产业, B–E 第二产业, 其余第三产业.
entity_counts as (

    select
        entities.entity_region as county_code,
        count(*) as entity_count,
        count(*) filter (where entities.entity_status = '1') as active_entity_count,
        count(*) filter (where entities.entity_status = '2') as revoked_entity_count,
        count(*) filter (where entities.entity_status = '3') as cancelled_entity_count,
        count(*) filter (where entities.entity_status = '4') as moved_out_entity_count,
        count(*) filter (
            where entities.entity_status = '1' and entities.industry_code = 'A'
        ) as primary_industry_entity_count,
        count(*) filter (
            where entities.entity_status = '1' and entities.industry_code in ('B', 'C', 'D', 'E')
        ) as secondary_industry_entity_count,
        count(*) filter (
            where entities.entity_status = '1' and entities.industry_code >= 'F'
        ) as tertiary_industry_entity_count
    from entities
    group by entities.entity_region

),

month_tax as (

    select
        entities.entity_region as county_code,
        count(distinct tax_returns.uscc) as taxpayer_count,
        sum(tax_returns.sales_revenue) as sales_revenue,
        sum(tax_returns.tax_amount) as tax_amount
    from tax_returns
    cross join build_period
    inner join entities on tax_returns.uscc = entities.uscc
    where tax_returns.report_month = replace(build_period.target_period, '-', '')
    group by entities.entity_region

),

month_power as (

    select
        entities.entity_region as county_code,
        sum(power_bills.power_kwh) as power_kwh
    from power_bills
    cross join build_period
    inner join entities on power_bills.uscc = entities.uscc
    where power_bills.report_month = replace(build_period.target_period, '-', '')
    group by entities.entity_region

),

-- 项目状态 2 = 在建.
project_counts as (

    select
        projects.project_region as county_code,
        count(*) as project_count,
        count(*) filter (where projects.project_status = '2') as project_under_construction_count,
        sum(projects.total_investment) as project_investment_total
    from projects
    group by projects.project_region

),

month_statistics as (

    select
        statistics.admin_region as county_code,
        max(statistics.stat_value) filter (where statistics.stat_item = 'A01') as gdp_100m_yuan,
        max(statistics.stat_value) filter (
            where statistics.stat_item = 'A02'
        ) as industrial_value_added_growth_pct,
        max(statistics.stat_value) filter (
            where statistics.stat_item = 'A03'
        ) as fixed_asset_investment_growth_pct,
        max(statistics.stat_value) filter (where statistics.stat_item = 'A04') as retail_sales_100m_yuan,
        max(statistics.stat_value) filter (
            where statistics.stat_item = 'A05'
        ) as budget_revenue_100m_yuan,
        max(statistics.stat_value) filter (
            where statistics.stat_item = 'A06'
        ) as urban_disposable_income_yuan,
        max(statistics.stat_value) filter (
            where statistics.stat_item = 'A07'
        ) as power_consumption_10k_kwh
    from statistics
    cross join build_period
    where statistics.report_month = replace(build_period.target_period, '-', '')
    group by statistics.admin_region

),

-- Counties: every well-formed 6-digit code any source places something in.
counties as (

    select entity_counts.county_code from entity_counts
    union
    select project_counts.county_code from project_counts
    union
    select month_statistics.county_code from month_statistics

),

final as (

    select
        build_period.target_period as period,
        counties.county_code,
        coalesce(entity_counts.entity_count, 0) as entity_count,
        coalesce(entity_counts.active_entity_count, 0) as active_entity_count,
        coalesce(entity_counts.revoked_entity_count, 0) as revoked_entity_count,
        coalesce(entity_counts.cancelled_entity_count, 0) as cancelled_entity_count,
        coalesce(entity_counts.moved_out_entity_count, 0) as moved_out_entity_count,
        coalesce(entity_counts.primary_industry_entity_count, 0) as primary_industry_entity_count,
        coalesce(entity_counts.secondary_industry_entity_count, 0) as secondary_industry_entity_count,
        coalesce(entity_counts.tertiary_industry_entity_count, 0) as tertiary_industry_entity_count,
        coalesce(month_tax.taxpayer_count, 0) as taxpayer_count,
        month_tax.sales_revenue,
        month_tax.tax_amount,
        month_power.power_kwh,
        coalesce(project_counts.project_count, 0) as project_count,
        coalesce(project_counts.project_under_construction_count, 0) as project_under_construction_count,
        project_counts.project_investment_total,
        month_statistics.gdp_100m_yuan,
        month_statistics.industrial_value_added_growth_pct,
        month_statistics.fixed_asset_investment_growth_pct,
        month_statistics.retail_sales_100m_yuan,
        month_statistics.budget_revenue_100m_yuan,
        month_statistics.urban_disposable_income_yuan,
        month_statistics.power_consumption_10k_kwh
    from counties
    cross join build_period
    left join entity_counts on counties.county_code = entity_counts.county_code
    left join month_tax on counties.county_code = month_tax.county_code
    left join month_power on counties.county_code = month_power.county_code
    left join project_counts on counties.county_code = project_counts.county_code
    left join month_statistics on counties.county_code = month_statistics.county_code
    where regexp_full_match(counties.county_code, '[0-9]{6}')

)

select * from final
