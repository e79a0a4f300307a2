-- 社会保障主题库: one row per county, programme (社会保险险种 or 社会救助类型) and status for the
-- build period: persons covered and amounts. The county is the person's 户籍地 (人口基础库).

with

insured as (

    select * from {{ ref('int_rsj__shbx__latest') }}

),

relief as (

    select * from {{ ref('int_mzj__shjz__latest') }}

),

persons as (

    select * from {{ ref('lib_population') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

covered as (

    select
        case
            when regexp_full_match(persons.domicile_region, '[0-9]{6}') then persons.domicile_region
            else '未识别'
        end as county_code,
        '社会保险' as programme,
        coalesce(insured.insurance_type, '未识别') as programme_type,
        coalesce(insured.insurance_status, '未识别') as programme_status,
        insured.citizen_id,
        insured.contribution_base as amount
    from insured
    left join persons on insured.citizen_id = persons.citizen_id

    union all

    select
        case
            when regexp_full_match(persons.domicile_region, '[0-9]{6}') then persons.domicile_region
            when regexp_full_match(relief.domicile_region, '[0-9]{6}') then relief.domicile_region
            else '未识别'
        end as county_code,
        '社会救助' as programme,
        coalesce(relief.relief_type, '未识别') as programme_type,
        '在册' as programme_status,
        relief.citizen_id,
        relief.relief_amount as amount
    from relief
    left join persons on relief.citizen_id = persons.citizen_id

),

final as (

    select
        build_period.target_period as period,
        covered.county_code || '|' || covered.programme || '|' || covered.programme_type
        || '|' || covered.programme_status as row_key,
        covered.county_code,
        covered.programme,
        covered.programme_type,
        covered.programme_status,
        count(distinct covered.citizen_id) as person_count,
        sum(covered.amount) as amount_total
    from covered
    cross join build_period
    group by
        build_period.target_period,
        covered.county_code,
        covered.programme,
        covered.programme_type,
        covered.programme_status

)

select * from final
