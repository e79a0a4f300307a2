-- 市场监管主题库: one row per county for the build period: registered entities, entities
-- established and closed (吊销/注销/迁出) this period, licences and 双公示 permits and penalties.

with

entities as (

    select * from {{ ref('lib_legal_entity') }}

),

registrations as (

    select * from {{ ref('stg_scjgj__sczt') }}

),

licences as (

    select * from {{ ref('lib_e_licence') }}

),

decisions as (

    select * from {{ ref('int_fgw__sgs__latest') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

-- 经营状态 as of the previous period: the latest delivered row before the build period.
previous_status as (

    select
        registrations.uscc,
        registrations.entity_status
    from registrations
    cross join build_period
    where
        registrations.period < build_period.target_period
        and registrations.uscc is not null
    qualify row_number() over (
        partition by registrations.uscc
        order by registrations.period desc, registrations.gxsj desc nulls last, registrations._row_number desc
    ) = 1

),

entity_counts as (

    select
        entities.entity_region as county_code,
        count(*) as entity_count,
        count(*) filter (where entities.entity_status = '1') as active_entity_count,
        count(*) filter (
            where strftime(entities.establish_date, '%Y-%m') = build_period.target_period
        ) as new_entity_count,
        count(*) filter (
            where entities.entity_status in ('2', '3', '4') and previous_status.entity_status = '1'
        ) as closed_entity_count
    from entities
    cross join build_period
    left join previous_status on entities.uscc = previous_status.uscc
    group by entities.entity_region

),

-- 证照状态 1 = 有效; a licence counts where its holder is registered.
licence_counts as (

    select
        entities.entity_region as county_code,
        count(*) filter (where licences.licence_status = '1') as valid_licence_count,
        count(*) filter (
            where strftime(licences.issue_date, '%Y-%m') = build_period.target_period
        ) as new_licence_count
    from licences
    cross join build_period
    inner join entities on licences.holder_uscc = entities.uscc
    group by entities.entity_region

),

-- 决定类别 1 行政许可, 2 行政处罚; decisions dated in the build period.
decision_counts as (

    select
        entities.entity_region as county_code,
        count(*) filter (where decisions.decision_type = '1') as permit_count,
        count(*) filter (where decisions.decision_type = '2') as penalty_count,
        coalesce(
            sum(decisions.penalty_amount) filter (where decisions.decision_type = '2'), 0
        ) as penalty_amount
    from decisions
    cross join build_period
    inner join entities on decisions.uscc = entities.uscc
    where strftime(decisions.decision_date, '%Y-%m') = build_period.target_period
    group by entities.entity_region

),

final as (

    select
        build_period.target_period as period,
        entity_counts.county_code,
        entity_counts.entity_count,
        entity_counts.active_entity_count,
        entity_counts.new_entity_count,
        entity_counts.closed_entity_count,
        coalesce(licence_counts.valid_licence_count, 0) as valid_licence_count,
        coalesce(licence_counts.new_licence_count, 0) as new_licence_count,
        coalesce(decision_counts.permit_count, 0) as permit_count,
        coalesce(decision_counts.penalty_count, 0) as penalty_count,
        coalesce(decision_counts.penalty_amount, 0) as penalty_amount
    from entity_counts
    cross join build_period
    left join licence_counts on entity_counts.county_code = licence_counts.county_code
    left join decision_counts on entity_counts.county_code = decision_counts.county_code
    where regexp_full_match(entity_counts.county_code, '[0-9]{6}')

)

select * from final
