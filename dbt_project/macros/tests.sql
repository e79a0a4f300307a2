{#- Generic tests of this project. -#}

{#- No two rows share the values of `columns` (a composite primary key). -#}
{% test bz_unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
