-- 信用基础库: one row per registered entity with its public credit grade (发改委 fgw_xypj),
-- tax credit grade (税务 swj_nssb) and the permits and penalties published under 双公示
-- (fgw_sgs) up to the build period; each value carries its department and period.

with

entities as (

    select * from {{ ref('int_scjgj__sczt__latest') }}

),

evaluations as (

    select * from {{ ref('int_fgw__xypj__latest') }}

),

decisions as (

    select * from {{ ref('int_fgw__sgs__latest') }}

),

tax_returns as (

    select * from {{ ref('int_swj__nssb__latest') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

grades as (

    select
        evaluations.uscc,
        evaluations.public_credit_grade,
        evaluations.evaluation_date,
        evaluations.period,
        evaluations._dept as dept
    from evaluations
    qualify row_number() over (
        partition by evaluations.uscc order by evaluations.evaluation_date desc nulls last
    ) = 1

),

tax_grades as (

    select
        tax_returns.uscc,
        tax_returns.tax_credit_grade,
        tax_returns.period,
        tax_returns._dept as dept
    from tax_returns
    where tax_returns.tax_credit_grade is not null
    qualify row_number() over (
        partition by tax_returns.uscc
        order by tax_returns.report_month desc, tax_returns.period desc
    ) = 1

),

-- 决定类别: 1 行政许可, 2 行政处罚.
decision_summary as (

    select
        decisions.uscc,
        count(*) filter (where decisions.decision_type = '1') as permit_count,
        count(*) filter (where decisions.decision_type = '2') as penalty_count,
        coalesce(
            sum(decisions.penalty_amount) filter (where decisions.decision_type = '2'), 0
        ) as penalty_amount_total,
        max(decisions.decision_date) as last_decision_date,
        max(decisions.period) as period,
        min(decisions._dept) as dept
    from decisions
    group by decisions.uscc

),

final as (

    select
        build_period.target_period as period,
        entities.uscc,
        entities.entity_name,
        grades.public_credit_grade,
        grades.evaluation_date,
        grades.dept as public_credit_grade_source_dept,
        grades.period as public_credit_grade_source_period,
        tax_grades.tax_credit_grade,
        tax_grades.dept as tax_credit_grade_source_dept,
        tax_grades.period as tax_credit_grade_source_period,
        coalesce(decision_summary.permit_count, 0) as permit_count,
        coalesce(decision_summary.penalty_count, 0) as penalty_count,
        coalesce(decision_summary.penalty_amount_total, 0) as penalty_amount_total,
        decision_summary.last_decision_date,
        decision_summary.dept as decisions_source_dept,
        decision_summary.period as decisions_source_period
    from entities
    cross join build_period
    left join grades on entities.uscc = grades.uscc
    left join tax_grades on entities.uscc = tax_grades.uscc
    left join decision_summary on entities.uscc = decision_summary.uscc

)

select * from final
