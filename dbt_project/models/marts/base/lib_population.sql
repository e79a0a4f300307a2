-- 人口基础库: one row per person living in the build period. Identity and address from 公安
-- (gaj_hjrk), death from 卫健 (wjw_swyxzm), mobile from 人社 (rsj_shbx); each value carries
-- the department and period it came from. 卫健 is the authority of a death (一数一源): a person
-- whose death it certifies is not living here, whatever 户口状态 公安 still shows (that lag is
-- 公安's issue, gaj_hjrk.subject_ended). `rejected_columns` names the published values that
-- fail their element's own rules (the same facts the quality rules check), so no such value
-- is published unmarked.
{%- set from_household_register = [
    'person_name', 'gender', 'birth_date', 'nation', 'domicile_region',
    'domicile_address', 'household_no', 'household_relation',
] %}

with

persons as (

    select * from {{ ref('int_gaj__hjrk__latest') }}

),

person_history as (

    select * from {{ ref('stg_gaj__hjrk') }}

),

deaths as (

    select * from {{ ref('int_wjw__swyxzm__latest') }}

),

insured as (

    select * from {{ ref('int_rsj__shbx__latest') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

-- The latest valid 户口状态 up to the build period, for persons whose current one is not valid.
last_valid_status as (

    select
        person_history.citizen_id,
        person_history.hukou_status,
        person_history.period
    from person_history
    cross join build_period
    where
        person_history.period <= build_period.target_period
        and person_history.hukou_status_is_valid
    qualify row_number() over (
        partition by person_history.citizen_id
        order by person_history.period desc, person_history.gxsj desc nulls last
    ) = 1

),

-- Deaths 卫健 certifies with a sound date (in range, not after the build period).
death_records as (

    select
        deaths.citizen_id,
        max(deaths.death_date) as death_date,
        max(deaths.period) as period,
        min(deaths._dept) as dept
    from deaths
    cross join build_period
    where
        deaths.death_date >= date '1990-01-01'
        and deaths.death_date <= last_day(cast(build_period.target_period || '-01' as date))
    group by deaths.citizen_id

),

-- 人社 holds one row per insurance type; a valid number wins over a defective one.
mobiles as (

    select
        insured.citizen_id,
        coalesce(
            min(insured.mobile) filter (where insured.mobile_is_valid),
            min(insured.mobile)
        ) as mobile,
        max(insured.period) as period,
        min(insured._dept) as dept
    from insured
    group by insured.citizen_id

),

statuses as (

    select
        persons.citizen_id,
        case
            when death_records.citizen_id is not null then '2'
            when persons.hukou_status_is_valid then persons.hukou_status
            when last_valid_status.citizen_id is not null then last_valid_status.hukou_status
            else '1'
        end as hukou_status,
        case
            when death_records.citizen_id is not null then death_records.dept
            when persons.hukou_status_is_valid then persons._dept
            when last_valid_status.citizen_id is not null then persons._dept
        end as hukou_status_source_dept,
        case
            when death_records.citizen_id is not null then death_records.period
            when persons.hukou_status_is_valid then persons.period
            when last_valid_status.citizen_id is not null then last_valid_status.period
        end as hukou_status_source_period,
        case
            when death_records.citizen_id is not null then coalesce(persons.hukou_status, '') <> '2'
            else not coalesce(persons.hukou_status_is_valid, false)
        end as hukou_status_is_inferred
    from persons
    left join last_valid_status on persons.citizen_id = last_valid_status.citizen_id
    left join death_records on persons.citizen_id = death_records.citizen_id

),

final as (

    select
        build_period.target_period as period,
        persons.citizen_id,
        persons.citizen_id_is_valid,
        {%- for column in from_household_register %}
            persons.{{ column }},
            persons._dept as {{ column }}_source_dept,
            persons.period as {{ column }}_source_period,
        {%- endfor %}
        statuses.hukou_status,
        statuses.hukou_status_source_dept,
        statuses.hukou_status_source_period,
        statuses.hukou_status_is_inferred,
        death_records.death_date,
        death_records.dept as death_date_source_dept,
        death_records.period as death_date_source_period,
        mobiles.mobile,
        mobiles.dept as mobile_source_dept,
        mobiles.period as mobile_source_period,
        {{ bz_rejected_columns([
            ('citizen_id', 'not coalesce(persons.citizen_id_is_valid or persons.citizen_id_is_legacy15, false)'),
            ('person_name', 'persons.person_name_is_placeholder'),
            ('gender', "persons.gender_is_placeholder or not coalesce(persons.gender_is_valid, true)"
                ~ " or (persons.citizen_id_is_valid and persons.gender in ('1', '2')"
                ~ " and persons.gender <> " ~ bz_ric_sex('persons.citizen_id') ~ ")"),
            ('nation', 'persons.nation_is_placeholder or not coalesce(persons.nation_is_valid, true)'),
            ('birth_date', "persons.birth_date_is_placeholder or coalesce(persons.birth_date_parse_failed, false)"
                ~ " or persons.birth_date < date '1900-01-01'"
                ~ " or persons.birth_date > last_day(cast(build_period.target_period || '-01' as date))"
                ~ " or (persons.citizen_id_is_valid and persons.birth_date <> "
                ~ bz_ric_birth_date('persons.citizen_id') ~ ")"),
            ('domicile_region', 'persons.domicile_region_is_placeholder or not coalesce(persons.domicile_region_is_valid, true)'),
            ('domicile_address', 'persons.domicile_address_is_placeholder'),
            ('household_no', 'persons.household_no_is_placeholder'),
            ('household_relation', 'persons.household_relation_is_placeholder or not coalesce(persons.household_relation_is_valid, true)'),
        ]) }} as rejected_columns
    from persons
    cross join build_period
    inner join statuses on persons.citizen_id = statuses.citizen_id
    left join death_records on persons.citizen_id = death_records.citizen_id
    left join mobiles on persons.citizen_id = mobiles.citizen_id
    where statuses.hukou_status = '1'

)

select * from final
