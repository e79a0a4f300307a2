{#- 多源校核 (used by the generated int_consistency__<element> models): one value per subject
    from the authority, compared with every copy record that names its subject. -#}

{#- The authority's value per subject key; with a validity flag a valid value is preferred. -#}
{% macro bz_authority_values(relation, authority) -%}
select
    {{ relation }}.{{ authority.key }} as subject_key,
    {%- if authority.valid %}
    coalesce(
        cast(min({{ relation }}.{{ authority.value }}) filter (where {{ relation }}.{{ authority.valid }}) as varchar),
        cast(min({{ relation }}.{{ authority.value }}) as varchar)
    ) as authority_value,
    {%- else %}
    cast(min({{ relation }}.{{ authority.value }}) as varchar) as authority_value,
    {%- endif %}
    max({{ relation }}.period) as authority_period
from {{ relation }}
where {{ relation }}.{{ authority.key }} is not null
group by {{ relation }}.{{ authority.key }}
{%- endmacro %}

{#- match: equal values; mismatch: both present, different; missing_in_copy: the copy record
    names its subject but not the value; missing_in_authority: the authority has no record of
    the subject or no value for it. Copy records without a subject key are not compared, and
    only the copy's latest delivery is: older increments were checked when they arrived. -#}
{% macro bz_consistency_checks(element, element_name, authority, values_relation, holders) -%}
{%- for holder in holders %}
select
    md5(concat_ws(
        '|', '{{ element }}', '{{ holder.dataset }}', '{{ holder.value }}',
        {% for column in holder.record_key %}cast(h.{{ column }} as varchar){% if not loop.last %}, {% endif %}{% endfor %}
    )) as check_id,
    '{{ element }}' as element,
    '{{ element_name }}' as element_name,
    '{{ authority.dept }}' as authority_dept,
    '{{ authority.dataset }}' as authority_dataset,
    '{{ holder.dept }}' as holder_dept,
    '{{ holder.dataset }}' as holder_dataset,
    '{{ holder.value }}' as holder_column,
    concat_ws(
        '|', {% for column in holder.record_key %}cast(h.{{ column }} as varchar){% if not loop.last %}, {% endif %}{% endfor %}
    ) as record_key,
    cast(h.{{ holder.key }} as varchar) as subject_key,
    h.period as holder_period,
    a.authority_period,
    cast(h.{{ holder.value }} as varchar) as holder_value,
    a.authority_value,
    case
        when h.{{ holder.value }} is null then 'missing_in_copy'
        when a.authority_value is null then 'missing_in_authority'
        when cast(h.{{ holder.value }} as varchar) = a.authority_value then 'match'
        else 'mismatch'
    end as status,
    case
        when h.{{ holder.value }} is null then '副本缺失'
        when a.authority_value is null then '权威缺失'
        when cast(h.{{ holder.value }} as varchar) = a.authority_value then '一致'
        else '不一致'
    end as status_label
from {{ holder.relation }} as h
left join {{ values_relation }} as a on cast(h.{{ holder.key }} as varchar) = a.subject_key
where
    h.{{ holder.key }} is not null
    and h.period = (select max(latest.period) from {{ holder.relation }} as latest)
{%- if not loop.last %}

union all
{% endif %}
{%- endfor %}
{%- endmacro %}
