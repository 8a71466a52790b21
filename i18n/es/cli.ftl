# Los errores de la línea de comandos misma (los de clap), con la
# disposición de clap.
cli-error = error:
cli-invalid-value = valor no válido «{ $value }» para «{ $arg }»
cli-empty-value = «{ $arg }» necesita un valor y no se dio ninguno
cli-possible-values = valores posibles
cli-unknown-argument = argumento inesperado «{ $arg }»
cli-invalid-subcommand = subcomando desconocido «{ $name }»
cli-missing-arguments = faltan estos argumentos obligatorios:
cli-missing-subcommand = «{ $name }» necesita un subcomando y no se dio ninguno
cli-subcommands = subcomandos
cli-used-twice = el argumento «{ $arg }» no se puede usar más de una vez
cli-conflict = el argumento «{ $arg }» no se puede usar con
cli-conflict-others = uno o más de los otros argumentos dados
cli-quoted = «{ $text }»
cli-tip = consejo:
cli-similar-argument = existe un argumento parecido: { $list }
cli-similar-arguments = existen argumentos parecidos: { $list }
cli-similar-subcommand = existe un subcomando parecido: { $list }
cli-similar-subcommands = existen subcomandos parecidos: { $list }
cli-similar-value = existe un valor parecido: { $list }
cli-similar-values = existen valores parecidos: { $list }
cli-pass-as-value = para pasar «{ $arg }» como valor, use «{ $fix }»
cli-exists = existe «{ $what }»
cli-usage = Uso:
cli-more-info = Para más información, pruebe «{ $help }».
# Por qué se rechazó un número o una dirección.
cli-int-empty = está vacío; escriba un número entero
cli-int-invalid = no es un número entero
cli-int-too-big = es un número demasiado grande
cli-int-too-small = es un número demasiado pequeño
cli-int-conversion = está fuera del rango permitido
cli-float-invalid = no es un número
cli-address-invalid = no es una dirección válida; escriba IP:puerto, p. ej. 127.0.0.1:8080
cli-below-minimum = { $value } es menor que el mínimo, { $min }
cli-above-maximum = { $value } es mayor que el máximo, { $max }
