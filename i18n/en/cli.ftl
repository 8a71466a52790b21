# The command line's own errors (clap's), in clap's words and layout: the
# Spanish catalog words them, the English one is held against clap's output
# by a test.
cli-error = error:
cli-invalid-value = invalid value '{ $value }' for '{ $arg }'
cli-empty-value = a value is required for '{ $arg }' but none was supplied
cli-possible-values = possible values
cli-unknown-argument = unexpected argument '{ $arg }' found
cli-invalid-subcommand = unrecognized subcommand '{ $name }'
cli-missing-arguments = the following required arguments were not provided:
cli-missing-subcommand = '{ $name }' requires a subcommand but one was not provided
cli-subcommands = subcommands
cli-used-twice = the argument '{ $arg }' cannot be used multiple times
cli-conflict = the argument '{ $arg }' cannot be used with
cli-conflict-others = one or more of the other specified arguments
cli-quoted = '{ $text }'
cli-tip = tip:
cli-similar-argument = a similar argument exists: { $list }
cli-similar-arguments = some similar arguments exist: { $list }
cli-similar-subcommand = a similar subcommand exists: { $list }
cli-similar-subcommands = some similar subcommands exist: { $list }
cli-similar-value = a similar value exists: { $list }
cli-similar-values = some similar values exist: { $list }
cli-pass-as-value = to pass '{ $arg }' as a value, use '{ $fix }'
cli-exists = '{ $what }' exists
cli-usage = Usage:
cli-more-info = For more information, try '{ $help }'.
# Why a number or an address was refused, as the standard library says it.
cli-int-empty = cannot parse integer from empty string
cli-int-invalid = invalid digit found in string
cli-int-too-big = number too large to fit in target type
cli-int-too-small = number too small to fit in target type
cli-int-conversion = out of range integral type conversion attempted
cli-float-invalid = invalid float literal
cli-address-invalid = invalid socket address syntax
cli-below-minimum = { $value } is not in { $range }
cli-above-maximum = { $value } is not in { $range }
