{#- The build period and each dataset's state as of it (used by the generated
    int_<dept>__<dataset>__latest models). -#}

{#- The `period` var as a SQL literal, or a typed null when unset. -#}
{% macro bz_period_var() -%}
{%- set period = var('period') -%}
{%- if period is none or (period | string) == '' -%}
cast(null as varchar)
{%- else -%}
{%- if not modules.re.fullmatch('[0-9]{4}-(0[1-9]|1[0-2])', period | string) -%}
{{ exceptions.raise_compiler_error("变量 period 应为 YYYY-MM 格式，例如 2023-02，实际为 " ~ period) }}
{%- endif -%}
'{{ period }}'
{%- endif -%}
{%- endmacro %}

{#- One row per record key as of the build period.
    mode snapshot:  the latest delivered period not after the build period (a missed delivery
                    falls back to the previous one);
    mode increment: every period up to the build period, the latest row per key winning
                    (a corrected re-delivery replaces the record);
    mode frontdb:   var frontdb_partitions 'full' -> like snapshot (each partition is the whole
                    前置库 table at month end); 'delta' -> every incremental pull merged, the
                    latest row per key by watermark. A pull cannot see a row whose key was
                    corrected (or corrupted): the old row is dropped when a later row with a
                    different key has the same content (every column but key and watermark).
                    With `census` (the table's rows per record key at each pull, keys staged
                    like `staged`), only keys the latest census up to the build period holds
                    are kept: a pull cannot see deleted rows, the census can.
    Rows whose key is null cannot be identified and stay in staging only. -#}
{% macro bz_latest(staged, build_period, mode, key, watermark=none, content=[], census=none) -%}
{%- if mode not in ['snapshot', 'increment', 'frontdb'] -%}
{{ exceptions.raise_compiler_error("bz_latest: 未知的 mode " ~ mode) }}
{%- endif -%}
{%- set partitions = var('frontdb_partitions') -%}
{%- if partitions not in ['full', 'delta'] -%}
{{ exceptions.raise_compiler_error("变量 frontdb_partitions 应为 full 或 delta，实际为 " ~ partitions) }}
{%- endif -%}
{%- set whole_period = mode == 'snapshot' or (mode == 'frontdb' and partitions == 'full') -%}
{%- set rekeyed = mode == 'frontdb' and partitions == 'delta' and content | length > 0 -%}
{%- set counted = mode == 'frontdb' and partitions == 'delta' and census is not none -%}
{%- set order = [] -%}
{%- if watermark is not none -%}{%- do order.append('latest.' ~ watermark ~ ' desc nulls last') -%}{%- endif -%}
{%- if not whole_period -%}{%- do order.insert(0 if mode == 'increment' else order | length, 'latest.period desc') -%}{%- endif -%}
{%- do order.append('latest._row_number desc') -%}
{%- set target = '(select b.target_period from ' ~ build_period ~ ' as b)' -%}
select latest.*
from {{ staged }} as latest
where
    latest.period <= {{ target }}
    {%- if whole_period %}
    and latest.period = (
        select max(s.period) from {{ staged }} as s
        where s.period <= {{ target }}
    )
    {%- endif %}
    {%- for column in key %}
    and latest.{{ column }} is not null
    {%- endfor %}
    {%- if rekeyed %}
    and not exists (
        select 1 from {{ staged }} as newer
        where
            newer.period <= {{ target }}
            and hash({% for c in content %}newer.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
            = hash({% for c in content %}latest.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
            and ({% for column in key %}newer.{{ column }} is distinct from latest.{{ column }}{% if not loop.last %} or {% endif %}{% endfor %})
            and (newer.{{ watermark }}, newer.period) > (latest.{{ watermark }}, latest.period)
    )
    {%- endif %}
    {%- if counted %}
    and (
        not exists (select 1 from {{ census }} as c where c.period <= {{ target }})
        or exists (
            select 1 from {{ census }} as c
            where
                c.period = (
                    select max(cp.period) from {{ census }} as cp
                    where cp.period <= {{ target }}
                )
                {%- for column in key %}
                and c.{{ column }} = latest.{{ column }}
                {%- endfor %}
        )
    )
    {%- endif %}
qualify row_number() over (
    partition by {% for column in key %}latest.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    order by {{ order | join(', ') }}
) = 1
{%- endmacro %}
