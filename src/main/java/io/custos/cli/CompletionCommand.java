package io.custos.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

@Command(
        name = "completion",
        mixinStandardHelpOptions = true,
        description = {
            "Print a bash completion script (zsh: load it after 'autoload -U +X bashcompinit && bashcompinit').",
            "Install: custos completion > /etc/bash_completion.d/custos"
        })
final class CompletionCommand implements Callable<Integer> {
    private final Context ctx;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    CompletionCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        ctx.out().print(AutoComplete.bash("custos", spec.root().commandLine()));
        return 0;
    }
}
