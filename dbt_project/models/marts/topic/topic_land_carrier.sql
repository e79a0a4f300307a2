-- 土地库/载体库: one row per non-residential estate unit (商业服务, 工业, 办公) registered with
-- 自然资源, with its latest 网签备案 contract; land parcels themselves are not delivered yet.

with

estates as (

    select * from {{ ref('lib_real_estate') }}

),

final as (

    select
        estates.period,
        estates.estate_unit_no,
        estates.estate_use,
        estates.estate_region as county_code,
        estates.estate_location,
        estates.estate_area,
        estates.owner_name,
        estates.estate_reg_date,
        estates.contract_amount,
        estates.contract_date
    from estates
    where estates.estate_use != '10'

)

select * from final
