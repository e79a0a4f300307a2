{#- Marking what a 基础库 publishes: the names of the columns whose value fails its element's
    own rules, given as (column, SQL condition that holds when the value is rejected). -#}
{% macro bz_rejected_columns(checks) -%}
list_filter([
    {%- for column, rejected in checks %}
    case when coalesce({{ rejected }}, false) then '{{ column }}' end{% if not loop.last %},{% endif %}
    {%- endfor %}
], lambda x: x is not null)
{%- endmacro %}
