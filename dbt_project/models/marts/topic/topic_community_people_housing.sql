-- 社区人车房物专题库: one row per county, town and community for the build period: people and
-- households (社会治理主题库), housing units registered there (不动产), and entities with their
-- licences located there (住所). 车 (vehicles) has no source dataset yet.
{%- set place_pattern = '^(?:[^省]+省)?(?:[^市]+市)(.+?(?:区|县|市))(.+?(?:街道|镇|乡))(.+?(?:社区|村))' %}

with

communities as (

    select * from {{ ref('theme_social_governance') }}

),

estates as (

    select * from {{ ref('lib_real_estate') }}

),

entities as (

    select * from {{ ref('topic_enterprise_profile') }}

),

addresses as (

    select * from {{ ref('lib_address') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

-- 不动产用途 10 = 住宅.
housing as (

    select
        coalesce(addresses.admin_region, estates.estate_region, '未识别') as county_code,
        coalesce(
            addresses.town_name,
            nullif(regexp_extract(estates.estate_location, '{{ place_pattern }}', 2), ''),
            '未识别'
        ) as town_name,
        coalesce(
            addresses.community_name,
            nullif(regexp_extract(estates.estate_location, '{{ place_pattern }}', 3), ''),
            '未识别'
        ) as community_name,
        count(*) filter (where estates.estate_use = '10') as housing_units,
        count(*) filter (where estates.estate_use != '10') as non_residential_units,
        sum(estates.estate_area) as estate_area_total
    from estates
    left join addresses on estates.estate_location = addresses.standard_address
    group by all

),

-- 经营状态 1 = 存续.
things as (

    select
        coalesce(addresses.admin_region, entities.county_code, '未识别') as county_code,
        coalesce(
            addresses.town_name,
            nullif(regexp_extract(entities.entity_address, '{{ place_pattern }}', 2), ''),
            '未识别'
        ) as town_name,
        coalesce(
            addresses.community_name,
            nullif(regexp_extract(entities.entity_address, '{{ place_pattern }}', 3), ''),
            '未识别'
        ) as community_name,
        count(*) as active_entity_count,
        sum(entities.valid_licence_count) as valid_licence_count
    from entities
    left join addresses on entities.entity_address = addresses.standard_address
    where entities.entity_status = '1'
    group by all

),

places as (

    select
        communities.county_code,
        communities.town_name,
        communities.community_name
    from communities
    union
    select
        housing.county_code,
        housing.town_name,
        housing.community_name
    from housing
    union
    select
        things.county_code,
        things.town_name,
        things.community_name
    from things

),

final as (

    select
        build_period.target_period as period,
        places.county_code || '|' || places.town_name || '|' || places.community_name as community_key,
        places.county_code,
        places.town_name,
        places.community_name,
        coalesce(communities.population, 0) as population,
        coalesce(communities.households, 0) as households,
        coalesce(housing.housing_units, 0) as housing_units,
        coalesce(housing.non_residential_units, 0) as non_residential_units,
        housing.estate_area_total,
        coalesce(things.active_entity_count, 0) as active_entity_count,
        coalesce(things.valid_licence_count, 0) as valid_licence_count
    from places
    cross join build_period
    left join communities
        on
            places.county_code = communities.county_code
            and places.town_name = communities.town_name
            and places.community_name = communities.community_name
    left join housing
        on
            places.county_code = housing.county_code
            and places.town_name = housing.town_name
            and places.community_name = housing.community_name
    left join things
        on
            places.county_code = things.county_code
            and places.town_name = things.town_name
            and places.community_name = things.community_name

)

select * from final
