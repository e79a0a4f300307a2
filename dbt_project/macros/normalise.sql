{#- Text normalisation shared by the generated staging models.

    Each macro takes a SQL expression (usually a column of the `cleaned` CTE) and returns an
    expression; none of them reads a table, so they compose and are unit-tested through the
    staging models.
-#}

{#- Free text (names, addresses): surrounding whitespace removed, empty -> null. -#}
{% macro bz_text(expr) -%}
nullif(regexp_replace({{ expr }}, '^[\s\p{Z}]+|[\s\p{Z}]+$', '', 'g'), '')
{%- endmacro %}

{#- Full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space to their ASCII forms. -#}
{% macro bz_halfwidth(expr) -%}
{#- translate() costs ~7 us per value in DuckDB whatever the text holds (measured), and most
    values have no full-width character: test first, translate only when one is there. -#}
case
    when regexp_matches({{ expr }}, '[\x{ff01}-\x{ff5e}\x{3000}]')
        then translate(
            {{ expr }},
            '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　',
            '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ '
        )
    else {{ expr }}
end
{%- endmacro %}

{#- Identifiers, codes, dates and numbers: half-width, no whitespace anywhere (the same
    characters Python's \s and the zero-width marks), upper case; empty -> null.
    Mirrors bzdata.ids.text.normalize. -#}
{% macro bz_identifier(expr) -%}
nullif(upper(regexp_replace(
    {{ bz_halfwidth(expr) }},
    '[\s\p{Z}\x0b\x1c-\x1f\x85\x{200b}-\x{200d}\x{2060}\x{feff}]',
    '',
    'g'
)), '')
{%- endmacro %}

{#- The date formats departments use: YYYYMMDD, YYYY-MM-DD, YYYY/MM/DD, YYYY年MM月DD日.
    Anything else, or a date that does not exist, gives null. -#}
{% macro bz_date(text) -%}
cast(case
    when regexp_full_match({{ text }}, '[0-9]{8}')
        then try_strptime({{ text }}, '%Y%m%d')
    when regexp_full_match({{ text }}, '[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}')
        then try_strptime({{ text }}, '%Y-%m-%d')
    when regexp_full_match({{ text }}, '[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}')
        then try_strptime({{ text }}, '%Y/%m/%d')
    when regexp_full_match({{ text }}, '[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日')
        then try_strptime({{ text }}, '%Y年%m月%d日')
end as date)
{%- endmacro %}

{#- 'YYYY-MM-DD HH:MM:SS' (the 前置库 update stamps); identifier-normalised text has lost the
    blank, so both forms are accepted. -#}
{% macro bz_datetime(text) -%}
coalesce(
    try_strptime({{ text }}, '%Y-%m-%d%H:%M:%S'),
    try_strptime({{ text }}, '%Y-%m-%d %H:%M:%S')
)
{%- endmacro %}

{% macro bz_decimal(text) -%}
try_cast({{ text }} as decimal(20, 4))
{%- endmacro %}

{% macro bz_integer(text) -%}
try_cast({{ text }} as bigint)
{%- endmacro %}

{#- True when text was delivered but could not be read as the typed value. -#}
{% macro bz_parse_failed(text, parsed) -%}
({{ text }} is not null and {{ parsed }} is null)
{%- endmacro %}

{#- Whether a code is in its registry code list (null when no code was delivered). -#}
{% macro bz_in_code_list(text, codes) -%}
{%- if codes | length == 0 -%}
null
{%- else -%}
({{ text }} in ({% for code in codes %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor %}))
{%- endif -%}
{%- endmacro %}

{#- Mainland mobile number without +86/0086/86 prefix or hyphens (bzdata.ids.phone). -#}
{% macro bz_mobile(text) -%}
case
    when replace({{ text }}, '-', '') like '+86%' and length(replace({{ text }}, '-', '')) = 14
        then substr(replace({{ text }}, '-', ''), 4)
    when replace({{ text }}, '-', '') like '0086%' and length(replace({{ text }}, '-', '')) = 15
        then substr(replace({{ text }}, '-', ''), 5)
    when replace({{ text }}, '-', '') like '86%' and length(replace({{ text }}, '-', '')) = 13
        then substr(replace({{ text }}, '-', ''), 3)
    else replace({{ text }}, '-', '')
end
{%- endmacro %}

{% macro bz_mobile_is_valid(mobile) -%}
regexp_full_match({{ mobile }}, '1[3-9][0-9]{9}')
{%- endmacro %}
