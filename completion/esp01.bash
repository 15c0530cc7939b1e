# bash completion for esp01.  Commands come from `esp01 help` and each
# command's options from its --help, so both follow the installed binary.
# After --port: the serial ports under /dev (ttyUSB*, ttyACM*,
# serial/by-path/*); option values esp01 knows; otherwise local files.
# Paths on the board (":main.py") are not completed: listing them would
# interrupt the program running there.

_esp01_words() { # CMD: the command's options, from its --help
    "${1:-esp01}" "${@:2}" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

_esp01() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local exe=${COMP_WORDS[0]} start=1 i
    COMPREPLY=()
    # The command of the current link of an "esp01 put a.py : + reset" chain.
    for ((i = COMP_CWORD - 1; i >= 1; i--)); do
        if [ "${COMP_WORDS[i]}" = + ]; then start=$((i + 1)); break; fi
    done
    if [ "$COMP_CWORD" -eq "$start" ]; then
        COMPREPLY=($(compgen -W "$("$exe" help 2>/dev/null | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')" -- "$cur"))
        return
    fi
    local cmd=${COMP_WORDS[start]}
    local dev=${ESP01_DEV_ROOT:-/dev}
    case $prev in
        --port|-p)
            COMPREPLY=($(compgen -W "$(ls -d "$dev"/ttyUSB* "$dev"/ttyACM* "$dev"/serial/by-path/* 2>/dev/null)" -- "$cur"))
            return ;;
        --variant) COMPREPLY=($(compgen -W "1M 512K generic 2M-ROMFS OTA" -- "$cur")); return ;;
        --before) COMPREPLY=($(compgen -W "default-reset no-reset" -- "$cur")); return ;;
        --after) COMPREPLY=($(compgen -W "hard-reset run no-reset" -- "$cur")); return ;;
        --flash-mode) COMPREPLY=($(compgen -W "dout dio qout qio" -- "$cur")); return ;;
        --flash-size) COMPREPLY=($(compgen -W "512K 1M 2M 4M 8M 16M" -- "$cur")); return ;;
        --flash-freq) COMPREPLY=($(compgen -W "40m 26m 20m 80m" -- "$cur")); return ;;
        --fs) COMPREPLY=($(compgen -W "littlefs fat" -- "$cur")); return ;;
        --encoding) COMPREPLY=($(compgen -W "auto deflate base64 repr" -- "$cur")); return ;;
        --firmware)
            COMPREPLY=($(compgen -W "latest" -- "$cur") $(compgen -f -- "$cur"))
            return ;;
        --index) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --baud|--wait|--timeout|--offset|--mtime|--with|--blocks|--target) return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_esp01_words "$exe" "$cmd")" -- "$cur"))
        return
    fi
    if [ "$COMP_CWORD" -eq $((start + 1)) ]; then
        case $cmd in
            firmware) COMPREPLY=($(compgen -W "list get path" -- "$cur")); return ;;
            fs) COMPREPLY=($(compgen -W "ls tree cat extract check df mkfs" -- "$cur")); return ;;
            mip) COMPREPLY=($(compgen -W "install list" -- "$cur")); return ;;
            help) COMPREPLY=($(compgen -W "$("$exe" help 2>/dev/null | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')" -- "$cur")); return ;;
        esac
    fi
    [[ $cur == :* ]] && return
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _esp01 esp01
