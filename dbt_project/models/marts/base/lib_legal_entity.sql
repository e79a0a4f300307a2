-- 法人基础库: one row per entity registered with 市场监管 (scjgj_sczt, every 经营状态), with
-- tax (税务), electricity (供电) and insured headcount (人社) as attributes; each value carries
-- the department and period it came from; `rejected_columns` names the register's values that
-- fail their element's own rules (published, and marked).
{%- set from_register = [
    'entity_name', 'entity_type', 'legal_rep_name', 'legal_rep_id', 'registered_capital',
    'establish_date', 'entity_status', 'industry_code', 'entity_region', 'entity_address',
] %}

with

entities as (

    select * from {{ ref('int_scjgj__sczt__latest') }}

),

tax_returns as (

    select * from {{ ref('int_swj__nssb__latest') }}

),

power_bills as (

    select * from {{ ref('int_gdgs__ydl__latest') }}

),

insured as (

    select * from {{ ref('int_rsj__shbx__latest') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

-- The latest month each entity declared.
latest_tax as (

    select
        tax_returns.uscc,
        tax_returns.report_month,
        tax_returns.sales_revenue,
        tax_returns.tax_amount,
        tax_returns.tax_credit_grade,
        tax_returns.period,
        tax_returns._dept as dept
    from tax_returns
    qualify row_number() over (
        partition by tax_returns.uscc
        order by tax_returns.report_month desc, tax_returns.period desc
    ) = 1

),

-- An entity may hold several accounts: their consumption in its latest billed month.
latest_power as (

    select
        power_bills.uscc,
        power_bills.report_month,
        sum(power_bills.power_kwh) as power_kwh,
        max(power_bills.period) as period,
        min(power_bills._dept) as dept
    from power_bills
    group by power_bills.uscc, power_bills.report_month
    qualify row_number() over (
        partition by power_bills.uscc order by power_bills.report_month desc
    ) = 1

),

-- Employees: persons in 企业职工基本养老保险 (110) who are paying (1).
headcount as (

    select
        insured.employer_uscc as uscc,
        count(distinct insured.citizen_id) as insured_employees,
        max(insured.period) as period,
        min(insured._dept) as dept
    from insured
    where
        insured.insurance_type = '110'
        and insured.insurance_status = '1'
        and insured.employer_uscc is not null
    group by insured.employer_uscc

),

final as (

    select
        build_period.target_period as period,
        entities.uscc,
        entities.uscc_is_valid,
        {%- for column in from_register %}
            entities.{{ column }},
            entities._dept as {{ column }}_source_dept,
            entities.period as {{ column }}_source_period,
        {%- endfor %}
        latest_tax.report_month as tax_report_month,
        latest_tax.sales_revenue,
        latest_tax.tax_amount,
        latest_tax.tax_credit_grade,
        latest_tax.dept as tax_source_dept,
        latest_tax.period as tax_source_period,
        latest_power.report_month as power_report_month,
        latest_power.power_kwh,
        latest_power.dept as power_source_dept,
        latest_power.period as power_source_period,
        coalesce(headcount.insured_employees, 0) as insured_employees,
        headcount.dept as insured_employees_source_dept,
        headcount.period as insured_employees_source_period,
        {{ bz_rejected_columns([
            ('uscc', 'not coalesce(entities.uscc_is_valid, false)'),
            ('entity_name', 'entities.entity_name_is_placeholder'),
            ('entity_type', 'entities.entity_type_is_placeholder or not coalesce(entities.entity_type_is_valid, true)'),
            ('legal_rep_name', 'entities.legal_rep_name_is_placeholder'),
            ('legal_rep_id', 'entities.legal_rep_id_is_placeholder or not coalesce(entities.legal_rep_id_is_valid, true)'),
            ('registered_capital', 'entities.registered_capital_is_placeholder'
                ~ ' or coalesce(entities.registered_capital_parse_failed, false)'),
            ('establish_date', "entities.establish_date_is_placeholder or coalesce(entities.establish_date_parse_failed, false)"
                ~ " or entities.establish_date < date '1949-10-01'"
                ~ " or entities.establish_date > last_day(cast(build_period.target_period || '-01' as date))"),
            ('entity_status', 'entities.entity_status_is_placeholder or not coalesce(entities.entity_status_is_valid, true)'),
            ('industry_code', 'entities.industry_code_is_placeholder or not coalesce(entities.industry_code_is_valid, true)'),
            ('entity_region', 'entities.entity_region_is_placeholder or not coalesce(entities.entity_region_is_valid, true)'),
            ('entity_address', 'entities.entity_address_is_placeholder'),
        ]) }} as rejected_columns
    from entities
    cross join build_period
    left join latest_tax on entities.uscc = latest_tax.uscc
    left join latest_power on entities.uscc = latest_power.uscc
    left join headcount on entities.uscc = headcount.uscc

)

select * from final
