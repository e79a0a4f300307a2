-- 电力库: one row per enterprise with electricity accounts at 供电 in the build period's year:
-- accounts, the period month's and the year-to-date consumption, industry and county.

with

power_bills as (

    select * from {{ ref('int_gdgs__ydl__latest') }}

),

entities as (

    select * from {{ ref('lib_legal_entity') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

year_bills as (

    select
        power_bills.uscc,
        count(distinct power_bills.power_account) as account_count,
        sum(power_bills.power_kwh) filter (
            where power_bills.report_month = replace(build_period.target_period, '-', '')
        ) as month_power_kwh,
        sum(power_bills.power_kwh) as ytd_power_kwh
    from power_bills
    cross join build_period
    where
        power_bills.uscc is not null
        and left(power_bills.report_month, 4) = left(build_period.target_period, 4)
        and power_bills.report_month <= replace(build_period.target_period, '-', '')
    group by power_bills.uscc

),

final as (

    select
        build_period.target_period as period,
        year_bills.uscc,
        entities.entity_name,
        entities.industry_code,
        entities.entity_region as county_code,
        year_bills.account_count,
        year_bills.month_power_kwh,
        year_bills.ytd_power_kwh
    from year_bills
    cross join build_period
    left join entities on year_bills.uscc = entities.uscc

)

select * from final
