-- 自然资源和空间地理基础库（不动产）: one row per estate unit registered with 自然资源
-- (zrzyj_bdcdj, registrations up to the build period), with its latest 网签备案 contract from
-- 住建 (zjj_wqba) as attributes; each value carries its department and period.
{%- set from_register = [
    'estate_cert_no', 'owner_name', 'owner_id', 'estate_location', 'estate_region',
    'estate_area', 'estate_use', 'estate_reg_date',
] %}

with

estates as (

    select * from {{ ref('int_zrzyj__bdcdj__latest') }}

),

contracts as (

    select * from {{ ref('int_zjj__wqba__latest') }}

),

build_period as (

    select * from {{ ref('int_build_period') }}

),

latest_contract as (

    select
        contracts.estate_unit_no,
        contracts.contract_no,
        contracts.contract_amount,
        contracts.contract_date,
        contracts.period,
        contracts._dept as dept
    from contracts
    qualify row_number() over (
        partition by contracts.estate_unit_no
        order by contracts.contract_date desc nulls last, contracts.contract_no desc
    ) = 1

),

final as (

    select
        build_period.target_period as period,
        estates.estate_unit_no,
        {%- for column in from_register %}
            estates.{{ column }},
            estates._dept as {{ column }}_source_dept,
            estates.period as {{ column }}_source_period,
        {%- endfor %}
        estates.owner_id_is_valid,
        latest_contract.contract_no,
        latest_contract.contract_amount,
        latest_contract.contract_date,
        latest_contract.dept as contract_source_dept,
        latest_contract.period as contract_source_period
    from estates
    cross join build_period
    left join latest_contract on estates.estate_unit_no = latest_contract.estate_unit_no

)

select * from final
