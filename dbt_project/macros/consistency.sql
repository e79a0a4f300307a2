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

{#- The authority's value per subject key at the end of each period it delivered (a valid
    value preferred): its history, for copies that describe a subject as it was when an event
    happened (see `as_of` below). -#}
{% macro bz_authority_history(relation, authority) -%}
select
    {{ relation }}.{{ authority.key }} as subject_key,
    {{ relation }}.period,
    {%- if authority.valid %}
    coalesce(
        cast(min({{ relation }}.{{ authority.value }}) filter (where {{ relation }}.{{ authority.valid }}) as varchar),
        cast(min({{ relation }}.{{ authority.value }}) as varchar)
    ) as authority_value
    {%- else %}
    cast(min({{ relation }}.{{ authority.value }}) as varchar) as authority_value
    {%- endif %}
from {{ relation }}
where {{ relation }}.{{ authority.key }} is not null and {{ relation }}.{{ authority.value }} is not null
group by {{ relation }}.{{ authority.key }}, {{ relation }}.period
{%- endmacro %}

{#- match: equal values; mismatch: both present, different; missing_in_copy: the copy record
    names its subject but not the value; missing_in_authority: the authority has no record of
    the subject or no value for it. Copy records without a subject key are not compared, and
    only the copy's latest delivery is: older increments were checked when they arrived.
    A holder with `as_of` (an event date: a decision, a contract, a death) records its subject
    as it was then, so it is compared with the authority's value at the end of the event's
    month (the latest period up to it; the current value when the history starts later). -#}
{% macro bz_consistency_checks(element, element_name, authority, values_relation, holders, history_relation=none) -%}
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
    {%- set value = "a.authority_value" if not holder.as_of else "coalesce(ah.authority_value, a.authority_value)" %}
    {%- if holder.as_of %}
    coalesce(ah.period, a.authority_period) as authority_period,
    {%- else %}
    a.authority_period,
    {%- endif %}
    cast(h.{{ holder.value }} as varchar) as holder_value,
    {{ value }} as authority_value,
    case
        when h.{{ holder.value }} is null then 'missing_in_copy'
        when {{ value }} is null then 'missing_in_authority'
        when cast(h.{{ holder.value }} as varchar) = {{ value }} then 'match'
        else 'mismatch'
    end as status,
    case
        when h.{{ holder.value }} is null then '副本缺失'
        when {{ value }} is null then '权威缺失'
        when cast(h.{{ holder.value }} as varchar) = {{ value }} then '一致'
        else '不一致'
    end as status_label
from {{ holder.relation }} as h
left join {{ values_relation }} as a on cast(h.{{ holder.key }} as varchar) = a.subject_key
{%- if holder.as_of %}
asof left join {{ history_relation }} as ah
    on cast(h.{{ holder.key }} as varchar) = ah.subject_key
    and coalesce(strftime(h.{{ holder.as_of }}, '%Y-%m'), h.period) >= ah.period
{%- endif %}
where
    h.{{ holder.key }} is not null
    and h.period = (select max(latest.period) from {{ holder.relation }} as latest)
{%- if not loop.last %}

union all
{% endif %}
{%- endfor %}
{%- endmacro %}
