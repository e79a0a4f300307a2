-- 企业画像（兼作经济运行七库的企业库）: one row per entity registered with 市场监管, with tax,
-- electricity and insured headcount from 法人基础库, credit grades and 双公示 decisions from 信用
-- 基础库, licences from 电子证照基础库 and investment projects from 发改.

with

entities as (

    select * from {{ ref('lib_legal_entity') }}

),

credit as (

    select * from {{ ref('lib_credit') }}

),

licences as (

    select * from {{ ref('lib_e_licence') }}

),

projects as (

    select * from {{ ref('int_fgw__tzxm__latest') }}

),

-- 证照状态 1 = 有效.
licence_summary as (

    select
        licences.holder_uscc as uscc,
        count(*) as licence_count,
        count(*) filter (where licences.licence_status = '1') as valid_licence_count
    from licences
    where licences.holder_uscc is not null
    group by licences.holder_uscc

),

project_summary as (

    select
        projects.uscc,
        count(*) as project_count,
        sum(projects.total_investment) as project_investment_total
    from projects
    group by projects.uscc

),

final as (

    select
        entities.period,
        entities.uscc,
        entities.entity_name,
        entities.entity_type,
        entities.entity_status,
        entities.industry_code,
        entities.entity_region as county_code,
        entities.entity_address,
        entities.establish_date,
        entities.registered_capital,
        entities.legal_rep_name,
        entities.tax_report_month,
        entities.sales_revenue,
        entities.tax_amount,
        entities.power_report_month,
        entities.power_kwh,
        entities.insured_employees,
        credit.public_credit_grade,
        credit.tax_credit_grade,
        credit.permit_count,
        credit.penalty_count,
        credit.penalty_amount_total,
        coalesce(licence_summary.licence_count, 0) as licence_count,
        coalesce(licence_summary.valid_licence_count, 0) as valid_licence_count,
        coalesce(project_summary.project_count, 0) as project_count,
        project_summary.project_investment_total
    from entities
    left join credit on entities.uscc = credit.uscc
    left join licence_summary on entities.uscc = licence_summary.uscc
    left join project_summary on entities.uscc = project_summary.uscc

)

select * from final
