-- 项目库: one row per fixed-asset investment project (发改 fgw_tzxm, as of the build period)
-- with its project unit's registration from 法人基础库.

with

projects as (

    select * from {{ ref('int_fgw__tzxm__latest') }}

),

entities as (

    select * from {{ ref('lib_legal_entity') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

final as (

    select
        build_period.target_period as period,
        projects.project_code,
        projects.project_name,
        projects.uscc,
        coalesce(entities.entity_name, projects.entity_name) as entity_name,
        projects.industry_code,
        projects.project_region as county_code,
        projects.total_investment,
        projects.project_status,
        projects.start_date,
        entities.entity_status,
        projects.period as source_period
    from projects
    cross join build_period
    left join entities on projects.uscc = entities.uscc

)

select * from final
