init-title = Starter mapping for { $file }
init-check = Check every line, then validate it with:
init-operation = The CRM operation the obligations go to: replace { $placeholder } before sending.
init-displaced = ^ "{ $column }" looked like a record id too; it is sent in form unless you use it here instead
init-not-dates = { $column } did not read as dates in the sample: check [source] date_formats
init-required = { $field } is required: name the column that holds it, e.g.
init-field-example = { $field } = "Column name"
init-field-unmatched = { $field } = "Column name"   (no column matched)
init-form-all-matched = Every column matched a field: form stays empty.
init-form-unmatched = These columns matched no field, so each is sent in form as {"{"}name, value{"}"}.
init-form-exclude = Copy into exclude the ones the CRM does not need:
init-wolkvox-id-help =
    wolkvox_id is required: the CRM's id of the collections record (expediente)
    each obligation is added to, such as 64f0a1b2c3d4e5f601234567. The record must
    exist in the CRM before its obligations are sent. Bank files rarely carry it:
    export the records from the CRM's collections module and join them by the
    customer's document with a lookup (mapping init FILE --lookup EXPORT writes it).
    See docs/mapping.md, "Where wolkvox_id comes from". For example:
    wolkvox_id = {"{"} column = "Cédula", lookup = "expedientes" {"}"}
init-lookup-from = Each row's wolkvox_id, from { $file }:
init-lookup-found = { $found } of the { $sampled } values of "{ $column }" looked at are in its column "{ $key }".
init-lookup-found-normalized = { $found } of the { $sampled } values of "{ $column }" looked at are in its column "{ $key }" (compared as { $normalize }).
init-lookup-by-name = "{ $column }" and its "{ $key }" are named like a document number,
init-lookup-by-name-check = but no value was found in both: check that they hold the same documents.
init-lookup-by-name-few = but only { $found } of the { $sampled } values looked at are in both (compared as digits): too few to pair them by their values (at least half of them, and at least 3, are needed). Check that they hold the same documents.
init-lookup-relative = Relative to the mapping file: change it if you save the mapping in another folder.
init-lookup-no-value = No column of the file is named like a record id: name the one that holds it.
init-note-no-join = no column of { $input } matched a column of { $lookup } by name or by values; write [lookups] by hand (docs/mapping.md, "Where wolkvox_id comes from")
init-note-no-join-near = no column of { $input } matched a column of { $lookup } by name, and too few values are shared to pair two: the most, { $found } of the { $sampled } values of "{ $column }" looked at, are in "{ $key }" (at least half of them, and at least 3, are needed); write [lookups] by hand (docs/mapping.md, "Where wolkvox_id comes from")
init-note-no-record-id = no column looks like a record id (wolkvox_id): the CRM's id of the collections record each obligation is added to. Bank files rarely carry it; join the CRM's export of its records with --lookup FILE. See docs/mapping.md, "Where wolkvox_id comes from".
init-same-name = { $count } columns are named "{ $name }" ({ $positions }): a mapping cannot tell them apart, so they are left out of form.
init-same-name-fix = To send such a column, rename it in the file and take its name out of exclude.
init-note-same-name = { $file }: { $count } columns have the same name, "{ $name }" ({ $positions }); the mapping leaves them out (see its [form] exclude)
