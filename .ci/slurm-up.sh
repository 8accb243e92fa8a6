#!/usr/bin/env bash
# A one-node Slurm on this machine, for the test marked `slurm` (tests/test_slurm.py): munge,
# slurmctld and slurmd on localhost, the node with this machine's CPUs and memory. Needs root
# and Debian's packages (`apt-get install -y slurm-wlm munge`: slurm-wlm 22.05 on bookworm).
# Safe to run twice: daemons already up are left as they are.
set -euo pipefail

conf=/etc/slurm/slurm.conf
host=$(hostname -s)
# `slurmd -C` prints this machine's node line: CPUs, sockets, cores, threads, RealMemory.
node=$(slurmd -C | head -n 1 | sed "s/^NodeName=[^ ]*/NodeName=${host} NodeAddr=127.0.0.1/")
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > "$conf" <<CONF
# Written by .ci/slurm-up.sh: a single-node test cluster.
ClusterName=xner-ci
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
# Plain process tracking without cgroups: works inside containers and CI runners.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to scontrol for 10 minutes (no accounting database here).
MinJobAge=600
${node} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF

if ! pgrep -x munged > /dev/null; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged
fi
pgrep -x slurmctld > /dev/null || /usr/sbin/slurmctld
pgrep -x slurmd > /dev/null || /usr/sbin/slurmd

# Ready when the node takes jobs (bounded: 60 s).
for _ in $(seq 60); do
    if sinfo -h -N -o %T 2> /dev/null | grep -qE '^(idle|mixed|allocated)'; then
        echo "slurm-up: ${host} is up: $(sinfo -h -N -o '%N %c CPUs %m MB %T')"
        exit 0
    fi
    sleep 1
done
echo "slurm-up: the node did not come up; see /var/log/slurm/" >&2
sinfo -N >&2 || true
exit 1
