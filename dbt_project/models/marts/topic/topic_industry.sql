-- 产业库: one row per county and 行业门类 for the build period, from 企业画像: entities, insured
-- employees, latest tax and electricity, and investment projects.

with

profiles as (

    select * from {{ ref('topic_enterprise_profile') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

final as (

    select
        build_period.target_period as period,
        coalesce(profiles.county_code, '未识别') || '|' || coalesce(profiles.industry_code, '未识别') as row_key,
        coalesce(profiles.county_code, '未识别') as county_code,
        coalesce(profiles.industry_code, '未识别') as industry_code,
        count(*) filter (where profiles.entity_status = '1') as active_entity_count,
        sum(profiles.insured_employees) as insured_employees,
        sum(profiles.sales_revenue) as sales_revenue,
        sum(profiles.tax_amount) as tax_amount,
        sum(profiles.power_kwh) as power_kwh,
        sum(profiles.project_count) as project_count,
        sum(profiles.project_investment_total) as project_investment_total
    from profiles
    cross join build_period
    group by all

)

select * from final
