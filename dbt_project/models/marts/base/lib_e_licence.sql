-- 电子证照基础库: one row per licence in the 电子证照 catalogue of 大数据局 (dsj_dzzz, the
-- latest delivery up to the build period). The holder is referred to by the code on the
-- licence; the holder's name comes from its authority, 市场监管 (scjgj_sczt), while 大数据局's
-- copy of the name is compared in consistency_checks. Each value carries its department and period.
{%- set from_catalogue = [
    'licence_type', 'holder_uscc', 'issuing_authority', 'issue_date', 'expiry_date',
    'licence_status',
] %}

with

licences as (

    select * from {{ ref('int_dsj__dzzz__latest') }}

),

entities as (

    select * from {{ ref('int_scjgj__sczt__latest') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

final as (

    select
        build_period.target_period as period,
        licences.licence_no,
        {%- for column in from_catalogue %}
            licences.{{ column }},
            licences._dept as {{ column }}_source_dept,
            licences.period as {{ column }}_source_period,
        {%- endfor %}
        licences.holder_uscc_is_valid,
        entities.entity_name as holder_name,
        entities._dept as holder_name_source_dept,
        entities.period as holder_name_source_period
    from licences
    cross join build_period
    left join entities on licences.holder_uscc = entities.uscc

)

select * from final
