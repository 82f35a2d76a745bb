"""A pipeline of shell commands (Prefect 1's ``ShellTask``): a helper script, an
environment, the output of one command feeding the next, and a failing command."""

from headrace import Flow, task
from headrace.tasks.shell import ShellTask

helper = """
words() { printf 'alpha\\nbeta\\ngamma\\n'; }
"""

list_words = ShellTask(name="list words", helper_script=helper, return_all=True)
count_chars = ShellTask(name="count chars", env={"SEP": ":"})
broken = ShellTask(name="broken")


@task
def build_command(words):
    return "echo " + " ".join(f'"${{SEP}}{w}"' for w in words) + " | wc -c"


@task
def shout(words):
    return [w.upper() for w in words]


with Flow("shell-pipeline") as flow:
    words = list_words(command="words")
    loud = shout(words)
    chars = count_chars(command=build_command(words))
    failed = broken(command="echo 'disk full' >&2; exit 3")


if __name__ == "__main__":
    state = flow.run()
    print("words:", state.result[words].result)
    print("loud:", state.result[loud].result)
    print("chars:", state.result[chars].result.strip())
    print("broken:", type(state.result[failed]).__name__)
    print(state.result[failed].message)
    print(type(state).__name__)
