{#- Layers go to schemas named as configured (staging, intermediate, base, quality), not
    prefixed with the target schema, so that readers find `base.lib_population`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
{%- if custom_schema_name is none -%}
{{ target.schema }}
{%- else -%}
{{ custom_schema_name | trim }}
{%- endif -%}
{%- endmacro %}
