-- 自然资源和空间地理基础库（标准地址）: one row per standard address of 自然资源 (zrzyj_bzdz,
-- the latest quarterly delivery up to the build period).
{%- set from_register = ['admin_region', 'town_name', 'community_name', 'standard_address'] %}

with

addresses as (

    select * from {{ ref('int_zrzyj__bzdz__latest') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

final as (

    select
        build_period.target_period as period,
        addresses.address_code,
        {%- for column in from_register %}
            addresses.{{ column }},
            addresses._dept as {{ column }}_source_dept,
            addresses.period as {{ column }}_source_period,
        {%- endfor %}
        addresses.admin_region_is_valid
    from addresses
    cross join build_period

)

select * from final
