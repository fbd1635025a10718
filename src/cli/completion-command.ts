import type { Command } from "commander";

/** Every command path (`tasks ls`, …) and its options, read from the program itself. */
function commandTree(program: Command): { path: string; words: string[] }[] {
  const out: { path: string; words: string[] }[] = [];
  const walk = (command: Command, path: string[]) => {
    const subs = command.commands.map((c) => c.name());
    const options = command.options.map((o) => o.long).filter((o): o is string => Boolean(o));
    out.push({ path: path.join(" "), words: [...subs, ...options] });
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return out;
}

/** A bash completion script: completes commands, subcommands and options from the program's own tree. */
export function bashCompletion(program: Command): string {
  const cases = commandTree(program)
    .map(({ path, words }) => `    "${path}") words="${words.join(" ")}" ;;`)
    .join("\n");
  return `# credbroker completion for bash: eval "$(credbroker completion bash)"
_credbroker() {
  local cur path i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) path="\${path:+$path }\${COMP_WORDS[i]}" ;; esac
  done
  local words=""
  case "$path" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _credbroker credbroker
`;
}

/** `credbroker completion bash`. */
export function registerCompletionCommand(program: Command): void {
  program
    .command("completion")
    .description('print a shell completion script (bash): eval "$(credbroker completion bash)"')
    .argument("<shell>", "bash")
    .action((shell: string) => {
      if (shell !== "bash") throw new Error(`no completion for ${shell} yet: use bash`);
      process.stdout.write(bashCompletion(program));
    });
}
