"""make test-rabbitmq4's deployment: RabbitMQ 4 under chroot, built from the native node's parts."""

import shlex
import subprocess
import sys

import pytest

from brokerlab import cli
from brokerlab.brokers import backend_for, native, rabbitctl, rabbitmq_native
from brokerlab.brokers.rabbitmq_native import ChrootRabbitNode, render_conf
from brokerlab.errors import BrokerlabError


def fake_root(tmp_path):
    """A root with RabbitMQ's scripts where a Debian 13 root has them (no Erlang needed here)."""
    root = native.rabbitmq4_root(tmp_path)
    bin_dir = root / rabbitmq_native.CHROOT_BIN.relative_to("/")
    bin_dir.mkdir(parents=True)
    for name in ("rabbitmq-server", "rabbitmqctl"):
        (bin_dir / name).write_text("#!/bin/sh\n")
    (root / "proc").mkdir()
    return root


def test_ports_sit_beside_the_single_deployment(tmp_path):
    single, four = native.single(800, data=tmp_path), native.rabbitmq4(800, data=tmp_path)
    shift = native.RABBITMQ4_PORT_SHIFT
    assert [p + shift for _, p in single.rabbit[0].ports()] == [p for _, p in four.rabbit[0].ports()]
    assert four.kafka[0].port == single.kafka[0].port + shift
    assert four.rabbit[0].epmd_port == single.rabbit[0].epmd_port + shift  # its own epmd
    assert four.rabbit[0].nodename != single.rabbit[0].nodename
    assert four.home == tmp_path / "run" / "rabbitmq4" and four.port_offset == 800
    ports = [p for d in (single, four, native.cluster(800, data=tmp_path)) for n in d.nodes
             for _, p in n.ports()]
    assert len(ports) == len(set(ports))
    # Every port stays in range at the highest offset.
    top = native.rabbitmq4(native.MAX_PORT_OFFSET, data=tmp_path)
    assert all(0 < p < 65536 for n in top.nodes for _, p in n.ports())


def test_the_node_is_the_native_one_run_under_chroot(tmp_path):
    node = native.rabbitmq4(0, data=tmp_path).rabbit[0]
    assert isinstance(node, ChrootRabbitNode)
    assert node.root == tmp_path / "tools" / "rabbitmq4-root"
    native_node = native.single(0, data=tmp_path).rabbit[0]
    assert (node.plugins, node.peers, node.memory_limit_mib) == (
        native_node.plugins, native_node.peers, native_node.memory_limit_mib)


def test_command_mounts_privately_then_chroots(tmp_path):
    node = native.rabbitmq4(0, data=tmp_path).rabbit[0]
    cmd = node.command()
    assert cmd[:6] == ["unshare", "--mount", "--propagation", "private", "--fork", "--"]
    script, args = cmd[8], cmd[9:]
    assert args == ["sh", str(node.home), str(node.root), "/usr/lib/rabbitmq/bin/rabbitmq-server"]
    assert 'mount --bind "$1" "$2/brokerlab"' in script
    assert 'mount -t proc proc "$2/proc"' in script
    assert script.endswith('exec chroot "$root" "$@"')  # exec: the server stays in the recorded tree
    assert node.tool("rabbitmqctl")[-1] == "/usr/lib/rabbitmq/bin/rabbitmqctl"


def test_environment_is_the_native_one_seen_from_inside(tmp_path):
    four = native.rabbitmq4(0, data=tmp_path).rabbit[0]
    env = four.environment()
    assert env["HOME"] == "/brokerlab/home"
    assert env["RABBITMQ_CONFIG_FILE"] == "/brokerlab/rabbitmq.conf"
    assert env["RABBITMQ_MNESIA_BASE"] == "/brokerlab/mnesia"
    assert env["RABBITMQ_NODENAME"] == four.nodename
    assert not [v for k, v in env.items() if k.startswith("RABBITMQ_") and str(tmp_path) in v]
    plain = rabbitmq_native.RabbitNode.environment(four)  # the native node's, before translation
    assert {k: v for k, v in env.items() if v == plain[k]}.keys() >= {
        "ERL_EPMD_ADDRESS", "ERL_EPMD_PORT", "RABBITMQ_NODE_PORT", "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"}


def test_the_script_maps_the_node_dir_and_runs_the_root_s_server(tmp_path):
    """The command's shell script, run with mount and chroot replaced by echo: it binds the node's
    directory at /brokerlab, mounts /proc and execs the root's script, in that order."""
    node = native.rabbitmq4(0, data=tmp_path).rabbit[0]
    shim = "mount() { echo mount \"$@\"; }; chroot() { echo chroot \"$@\"; }; "

    def run(command: list[str]) -> list[str]:
        script, args = command[8], command[10:]
        done = subprocess.run(["/bin/sh", "-c", shim + script.replace("exec ", ""), "sh", *args],
                              capture_output=True, text=True, check=True)
        return done.stdout.splitlines()

    mounts = [f"mount --bind {node.home} {node.root}/brokerlab", f"mount -t proc proc {node.root}/proc"]
    assert run(node.command()) == [*mounts, f"chroot {node.root} /usr/lib/rabbitmq/bin/rabbitmq-server"]
    # A tool's arguments reach the tool (rabbitmqctl -n <node> <command> …), spaces kept.
    ctl = [*node.tool("rabbitmqctl"), "-n", node.nodename, "eval", "a b."]
    assert run(ctl) == [*mounts, f"chroot {node.root} /usr/lib/rabbitmq/bin/rabbitmqctl -n "
                                 f"{node.nodename} eval a b."]


def test_prepare_renders_the_native_config_where_the_root_sees_it(tmp_path):
    root = fake_root(tmp_path)
    node = native.rabbitmq4(0, data=tmp_path).rabbit[0]
    node.prepare()
    assert (node.home / "rabbitmq.conf").read_text() == render_conf(node.rabbit_ports, ())
    assert "rabbitmq_stomp" in (node.home / "enabled_plugins").read_text()
    assert (root / "brokerlab").is_dir()  # the mount point


def test_prepare_without_a_root_says_how_to_build_it(tmp_path):
    with pytest.raises(BrokerlabError, match="make test-rabbitmq4"):
        native.rabbitmq4(0, data=tmp_path).rabbit[0].prepare()


def test_rabbitmqctl_runs_inside_the_root(tmp_path, monkeypatch):
    node = native.rabbitmq4(0, data=tmp_path).rabbit[0]
    seen = {}

    def run(command, env, **_):
        seen.update(command=command, env=env)
        return subprocess.CompletedProcess(command, 0, "ok", "")

    monkeypatch.setattr(rabbitctl.subprocess, "run", run)
    assert rabbitctl.run(node, "status") == "ok"
    assert seen["command"][:-3] == node.tool("rabbitmqctl")
    assert seen["command"][-3:] == ["-n", node.nodename, "status"]
    assert seen["env"]["HOME"] == "/brokerlab/home"  # its cookie, as the chrooted node sees it


def test_exports_name_every_endpoint_of_the_deployment(tmp_path):
    four = native.rabbitmq4(800, data=tmp_path)
    env = dict(shlex.split(line)[1].split("=", 1) for line in four.exports().splitlines())
    assert env == {
        "KAFKA_BOOTSTRAP_SERVERS": four.bootstrap_servers, "RABBITMQ_URL": four.amqp_url,
        "RABBITMQ_MANAGEMENT_URL": four.management_url,
        "RABBITMQ_MQTT_URL": f"mqtt://127.0.0.1:{four.rabbit[0].rabbit_ports.mqtt}",
        "RABBITMQ_STOMP_URL": f"stomp://127.0.0.1:{four.rabbit[0].rabbit_ports.stomp}",
        "RABBITMQ_STREAM_URL": f"rabbitmq-stream://127.0.0.1:{four.rabbit[0].rabbit_ports.stream}"}


def test_cli_addresses_the_rabbitmq4_deployment(tmp_path, monkeypatch):
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5999/%2F")  # not an external one
    for verb in ("up", "down", "status"):
        args = cli.build_parser().parse_args(["rabbitmq4", verb, "--port-offset", "800"])
        backend = backend_for(args)
        assert isinstance(backend, native.NativeDeployment) and backend.name == "rabbitmq4"
        assert backend.command("down") == "brokerlab rabbitmq4 down"
    assert backend_for(cli.build_parser().parse_args(["status"])).__class__.__name__ == "ExternalBackend"


@pytest.mark.parametrize(("ps_output", "rc", "left", "expected"), [
    ("", 0, 0, 0),
    ("  123  single/rabbitmq  beam.smp\n", 0, 0, 0),  # another deployment's: not this run's
    ("  123  rabbitmq4/rabbitmq  beam.smp\n", 0, 0, 1),  # a process of it is left: the run fails
    ("", 0, 1, 1),  # `brokerlab rabbitmq4 down` failed
    ("", 2, 0, 2),  # the notebooks' failure is kept
])
def test_the_target_fails_when_a_process_of_it_is_left(tmp_path, ps_output, rc, left, expected):
    fake_bl = tmp_path / "brokerlab"
    fake_bl.write_text(f"#!/bin/sh\nprintf '%s' '{ps_output}'\n")
    fake_bl.chmod(0o755)
    script = f'BL={fake_bl}; . scripts/exit_checked.sh; exit_checked {rc} {left} 1 " rabbitmq4/"'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          cwd=native.settings.project_root())
    assert done.returncode == expected, done.stderr


def test_the_per_notebook_summary_names_the_first_failing_assertion(tmp_path):
    report = tmp_path / "junit.xml"
    report.write_text(
        '<testsuites><testsuite>'
        '<testcase classname="labs.a.ipynb" name="Cell 0" time="1.5"/>'
        '<testcase classname="labs.b.ipynb" name="Cell 0" time="2"/>'
        '<testcase classname="labs.b.ipynb" name="Cell 1" time="3"><failure message="x">'
        'Input:\nassert n &gt; 100\n#x1B[31mAssertionError#x1B[39m: a tight loop\n</failure></testcase>'
        '</testsuite></testsuites>')
    done = subprocess.run([sys.executable, "scripts/junit_by_notebook.py", str(report)], check=True,
                          capture_output=True, text=True, cwd=native.settings.project_root())
    assert done.stdout.splitlines() == [
        "labs.a.ipynb: PASSED (1 cells, 2 s)",
        "labs.b.ipynb: FAILED 1 of 2 cells (5 s), first Cell 1: AssertionError: a tight loop"]


def test_the_native_node_still_runs_the_server_it_is_told_to(tmp_path, monkeypatch):
    server = tmp_path / "bin" / "my-rabbitmq-server"
    server.parent.mkdir()
    server.write_text("#!/bin/sh\n")
    (server.parent / "rabbitmqctl").write_text("#!/bin/sh\n")
    monkeypatch.setenv("BROKERLAB_RABBITMQ_SERVER", str(server))
    node = native.single(0, data=tmp_path).rabbit[0]
    assert node.command() == [str(server)]
    assert node.tool("rabbitmqctl") == [str(server.parent / "rabbitmqctl")]
    with pytest.raises(BrokerlabError, match="rabbitmq-queues is not installed"):
        node.tool("rabbitmq-queues")
