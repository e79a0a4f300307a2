-- 税源库: one row per taxpayer that declared to 税务 in the build period's year, with the
-- period month's and the year-to-date revenue and tax, and its industry and county.

with

tax_returns as (

    select * from {{ ref('int_swj__nssb__latest') }}

),

entities as (

    select * from {{ ref('lib_legal_entity') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

year_returns as (

    select
        tax_returns.uscc,
        max(tax_returns.entity_name) as declared_name,
        count(*) as months_declared,
        sum(tax_returns.tax_amount) filter (
            where tax_returns.report_month = replace(build_period.target_period, '-', '')
        ) as month_tax_amount,
        sum(tax_returns.sales_revenue) filter (
            where tax_returns.report_month = replace(build_period.target_period, '-', '')
        ) as month_sales_revenue,
        sum(tax_returns.tax_amount) as ytd_tax_amount,
        sum(tax_returns.sales_revenue) as ytd_sales_revenue
    from tax_returns
    cross join build_period
    where
        left(tax_returns.report_month, 4) = left(build_period.target_period, 4)
        and tax_returns.report_month <= replace(build_period.target_period, '-', '')
    group by tax_returns.uscc

),

final as (

    select
        build_period.target_period as period,
        year_returns.uscc,
        coalesce(entities.entity_name, year_returns.declared_name) as entity_name,
        entities.industry_code,
        entities.entity_region as county_code,
        entities.tax_credit_grade,
        year_returns.months_declared,
        year_returns.month_sales_revenue,
        year_returns.month_tax_amount,
        year_returns.ytd_sales_revenue,
        year_returns.ytd_tax_amount
    from year_returns
    cross join build_period
    left join entities on year_returns.uscc = entities.uscc

)

select * from final
