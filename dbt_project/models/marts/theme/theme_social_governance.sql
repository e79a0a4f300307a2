-- 社会治理主题库: one row per county, town (街道/镇/乡) and community (社区/村) for the build
-- period: living population and households, social relief recipients, and the births, deaths
-- and marriage registrations of the period. The place comes from the standard address (自然资源)
-- where the 户籍地址 matches one, else from the 户籍地址 text itself.
{%- set place_pattern = '^(?:[^省]+省)?(?:[^市]+市)(.+?(?:区|县|市))(.+?(?:街道|镇|乡))(.+?(?:社区|村))' %}

with

persons as (

    select * from {{ ref('lib_population') }}

),

household_register as (

    select * from {{ ref('int_gaj__hjrk__latest') }}

),

addresses as (

    select * from {{ ref('lib_address') }}

),

relief as (

    select * from {{ ref('int_mzj__shjz__latest') }}

),

births as (

    select * from {{ ref('int_wjw__csyxzm__latest') }}

),

deaths as (

    select * from {{ ref('int_wjw__swyxzm__latest') }}

),

marriages as (

    select * from {{ ref('int_mzj__hydj__latest') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

-- Every person 公安 knows (living or not), placed by 户籍地址.
placed as (

    select
        household_register.citizen_id,
        coalesce(
            addresses.admin_region,
            case
                when regexp_full_match(household_register.domicile_region, '[0-9]{6}')
                    then household_register.domicile_region
            end,
            '未识别'
        ) as county_code,
        coalesce(
            addresses.town_name,
            nullif(regexp_extract(household_register.domicile_address, '{{ place_pattern }}', 2), ''),
            '未识别'
        ) as town_name,
        coalesce(
            addresses.community_name,
            nullif(regexp_extract(household_register.domicile_address, '{{ place_pattern }}', 3), ''),
            '未识别'
        ) as community_name
    from household_register
    left join addresses on household_register.domicile_address = addresses.standard_address

),

events as (

    select
        placed.county_code,
        placed.town_name,
        placed.community_name,
        persons.citizen_id as person_id,
        persons.household_no,
        'person' as event_kind
    from persons
    inner join placed on persons.citizen_id = placed.citizen_id

    union all

    select
        placed.county_code,
        placed.town_name,
        placed.community_name,
        relief.citizen_id as person_id,
        null as household_no,
        'relief' as event_kind
    from relief
    inner join persons on relief.citizen_id = persons.citizen_id
    inner join placed on relief.citizen_id = placed.citizen_id

    union all

    -- A newborn not yet registered with 公安 is placed at the mother's address.
    select
        coalesce(child.county_code, mother.county_code, '未识别') as county_code,
        coalesce(child.town_name, mother.town_name, '未识别') as town_name,
        coalesce(child.community_name, mother.community_name, '未识别') as community_name,
        births.birth_cert_no as person_id,
        null as household_no,
        'birth' as event_kind
    from births
    cross join build_period
    left join placed as child on births.citizen_id = child.citizen_id
    left join placed as mother on births.mother_id = mother.citizen_id
    where strftime(births.birth_date, '%Y-%m') = build_period.target_period

    union all

    select
        coalesce(placed.county_code, deaths.domicile_region, '未识别') as county_code,
        coalesce(placed.town_name, '未识别') as town_name,
        coalesce(placed.community_name, '未识别') as community_name,
        deaths.death_cert_no as person_id,
        null as household_no,
        'death' as event_kind
    from deaths
    cross join build_period
    left join placed on deaths.citizen_id = placed.citizen_id
    where strftime(deaths.death_date, '%Y-%m') = build_period.target_period

    union all

    -- Placed at the husband's address (婚姻登记类型 1 结婚, 2 离婚).
    select
        coalesce(placed.county_code, marriages.admin_region, '未识别') as county_code,
        coalesce(placed.town_name, '未识别') as town_name,
        coalesce(placed.community_name, '未识别') as community_name,
        marriages.marriage_cert_no as person_id,
        null as household_no,
        case when marriages.marriage_type = '2' then 'divorce' else 'marriage' end as event_kind
    from marriages
    cross join build_period
    left join placed on marriages.male_id = placed.citizen_id
    where strftime(marriages.marriage_date, '%Y-%m') = build_period.target_period

),

final as (

    select
        build_period.target_period as period,
        events.county_code || '|' || events.town_name || '|' || events.community_name as community_key,
        events.county_code,
        events.town_name,
        events.community_name,
        count(*) filter (where events.event_kind = 'person') as population,
        count(distinct events.household_no) filter (where events.event_kind = 'person') as households,
        count(distinct events.person_id) filter (where events.event_kind = 'relief') as relief_recipients,
        count(*) filter (where events.event_kind = 'birth') as births,
        count(*) filter (where events.event_kind = 'death') as deaths,
        count(*) filter (where events.event_kind = 'marriage') as marriages,
        count(*) filter (where events.event_kind = 'divorce') as divorces
    from events
    cross join build_period
    group by build_period.target_period, events.county_code, events.town_name, events.community_name

)

select * from final
