{#- Identifier rules in SQL: GB 11643 (公民身份号码), GB 32100 (统一社会信用代码) and
    GB/T 2260 region codes. They mirror bzdata.ids; tests/build cross-checks both on the
    demo city. Arguments are identifier-normalised text (bz_identifier). -#}

{#- GB/T 2260 existence, against the national table (seed `gbt2260`, generated from
    bzdata.ids.gbt2260 with each code's years): an identifier keeps the code in force when it
    was issued, so any code that ever existed is valid inside one; a field stating today's
    division needs a code in force now. -#}
{% macro bz_region_is_valid(text) -%}
({{ text }} in (select gbt2260.code from {{ ref('gbt2260') }} as gbt2260))
{%- endmacro %}

{% macro bz_region_is_current(text) -%}
({{ text }} in (select gbt2260.code from {{ ref('gbt2260') }} as gbt2260 where gbt2260.in_force))
{%- endmacro %}

{#- GB 11643 check character of 17 digits: (12 - sum mod 11) mod 11, 10 -> X.
    Indexed by sum mod 11 that is the string below. Null when a character is not a digit. -#}
{% macro bz_ric_check_digit(first17) -%}
{%- set weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] -%}
substr('10X98765432', ((
    {%- for weight in weights %}
    {% if not loop.first %}+ {% endif %}try_cast(substr({{ first17 }}, {{ loop.index }}, 1) as integer) * {{ weight }}
    {%- endfor %}
) % 11) + 1, 1)
{%- endmacro %}

{#- A 15-digit number with a valid region prefix and a real 19YYMMDD birth date. -#}
{% macro bz_ric_is_legacy15(text) -%}
coalesce(
    regexp_full_match({{ text }}, '[0-9]{15}')
    and {{ bz_region_is_valid('substr(' ~ text ~ ', 1, 6)') }}
    and try_strptime('19' || substr({{ text }}, 7, 6), '%Y%m%d') is not null,
    false
)
{%- endmacro %}

{#- The 18-digit number: 15-digit legacy numbers upgraded (century 19 and a check digit). -#}
{% macro bz_ric(text) -%}
case
    when {{ bz_ric_is_legacy15(text) }}
        then
            substr({{ text }}, 1, 6) || '19' || substr({{ text }}, 7, 9)
            || {{ bz_ric_check_digit("(substr(" ~ text ~ ", 1, 6) || '19' || substr(" ~ text ~ ", 7, 9))") }}
    else {{ text }}
end
{%- endmacro %}

{#- GB 11643 validity of an 18-character number as delivered (a 15-digit number is not valid:
    it must be upgraded): digits, check digit, real birth date from 1900 on, region prefix. -#}
{% macro bz_ric_is_valid(text) -%}
case
    when {{ text }} is null then null
    else coalesce(
        regexp_full_match({{ text }}, '[0-9]{17}[0-9X]')
        and substr({{ text }}, 18, 1) = {{ bz_ric_check_digit(text) }}
        and try_strptime(substr({{ text }}, 7, 8), '%Y%m%d') is not null
        and substr({{ text }}, 7, 8) >= '19000101'
        and {{ bz_region_is_valid('substr(' ~ text ~ ', 1, 6)') }},
        false
    )
end
{%- endmacro %}

{#- GB 32100 check character: alphabet without I, O, Z, S, V; weights 3^(i-1) mod 31. -#}
{% macro bz_uscc_check_char(first17) -%}
{%- set alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY' -%}
{%- set weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] -%}
substr('{{ alphabet }}', ((31 - ((
    {%- for weight in weights %}
    {% if not loop.first %}+ {% endif %}(strpos('{{ alphabet }}', substr({{ first17 }}, {{ loop.index }}, 1)) - 1) * {{ weight }}
    {%- endfor %}
) % 31)) % 31) + 1, 1)
{%- endmacro %}

{#- GB 11714 check character of the organisation code (positions 9-16): 10 -> X, 11 -> 0. -#}
{% macro bz_org_check_char(body8) -%}
{%- set weights = [3, 7, 9, 10, 5, 8, 4, 2] -%}
substr('?123456789X0', (11 - ((
    {%- for weight in weights %}
    {% if not loop.first %}+ {% endif %}(strpos('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr({{ body8 }}, {{ loop.index }}, 1)) - 1) * {{ weight }}
    {%- endfor %}
) % 11)) + 1, 1)
{%- endmacro %}

{#- GB 32100 validity (bzdata.ids.uscc.validate): alphabet, check character, registration
    department and category, region (or 100000), organisation code check character. -#}
{% macro bz_uscc_is_valid(text) -%}
case
    when {{ text }} is null then null
    else coalesce(
        regexp_full_match({{ text }}, '[0-9A-HJ-NP-RTUW-Y]{18}')
        and substr({{ text }}, 18, 1) = {{ bz_uscc_check_char(text) }}
        and substr({{ text }}, 1, 2) in (
            '11', '12', '13', '19', '21', '29', '31', '32', '33', '34', '35', '39', '41', '49',
            '51', '52', '53', '59', '61', '62', '69', '71', '72', '79', '81', '89', '91', '92',
            '93', 'A1', 'A9', 'N1', 'N2', 'N3', 'N9', 'Y1'
        )
        and (
            substr({{ text }}, 3, 6) = '100000'
            or {{ bz_region_is_valid("substr(" ~ text ~ ", 3, 6)") }}
        )
        and substr({{ text }}, 17, 1) = {{ bz_org_check_char("substr(" ~ text ~ ", 9, 8)") }},
        false
    )
end
{%- endmacro %}

{#- What a GB 11643 number encodes: the birth date (positions 7-14) and the sex (17th digit odd
    for male '1', even for female '2', as GB/T 2261.1 codes it). -#}
{% macro bz_ric_birth_date(ric) -%}
cast(try_strptime(substr({{ ric }}, 7, 8), '%Y%m%d') as date)
{%- endmacro %}

{% macro bz_ric_sex(ric) -%}
(case try_cast(substr({{ ric }}, 17, 1) as integer) % 2 when 1 then '1' else '2' end)
{%- endmacro %}
