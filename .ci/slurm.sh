#!/usr/bin/env bash
# A real single-node Slurm cluster for the agent's preemption test.
#
# Installs slurm-wlm and munge (Debian), writes a one-node slurm.conf with two
# partitions, `scavenger` (PriorityTier=1, jobs requeued on preemption after a
# GraceTime) and `high` (PriorityTier=10), PreemptType=preempt/partition_prio,
# PreemptMode=REQUEUE, then starts munged, slurmctld and slurmd and waits for
# `sinfo` to show the node idle. Idempotent: a cluster already up is left as is.
#
# Environment: HASHWATT_SLURM_GRACE (GraceTime in seconds, default 10).
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed|alloc'; then
  echo "slurm: cluster already up"
  sinfo
  exit 0
fi

grace=${HASHWATT_SLURM_GRACE:-10}
node=$(hostname -s)
# The node's real CPU and memory layout, as slurmd sees it.
layout=$(slurmd -C | head -n1 | sed -e 's/^NodeName=[^ ]* //' -e 's/ *$//')

# munge: the package makes a key; make one if it did not.
if [ ! -s /etc/munge/munge.key ]; then
  as_root mungekey --create --force 2>/dev/null ||
    as_root dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  as_root chown munge:munge /etc/munge/munge.key
  as_root chmod 600 /etc/munge/munge.key
fi
as_root install -d -o munge -g munge -m 0755 /run/munge
as_root install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
if ! pgrep -x munged >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then su -s /bin/sh munge -c munged; else sudo -u munge munged; fi
fi

as_root install -d -m 0755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
as_root tee /etc/slurm/slurm.conf >/dev/null <<EOF
# Written by hashwatt's .ci/slurm.sh: one node, a scavenger partition that
# the high partition preempts by requeueing its jobs. (PreemptMode=OFF on
# \`high\` would also stop its jobs from preempting: leave it at the global mode.)
ClusterName=hashwatt-ci
SlurmctldHost=${node}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
JobRequeue=1
ReturnToService=2
MinJobAge=300
KillWait=5
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=${node} NodeAddr=127.0.0.1 ${layout} State=UNKNOWN
PartitionName=scavenger Nodes=ALL Default=YES MaxTime=INFINITE State=UP PriorityTier=1 PreemptMode=REQUEUE GraceTime=${grace}
PartitionName=high Nodes=ALL MaxTime=INFINITE State=UP PriorityTier=10
EOF

pgrep -x slurmctld >/dev/null || as_root slurmctld
pgrep -x slurmd >/dev/null || as_root slurmd

for _ in $(seq 1 30); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed|alloc'; then
    sinfo
    echo "slurm: cluster up (GraceTime=${grace}s)"
    exit 0
  fi
  sleep 1
done
echo "slurm: the node did not come up; logs follow" >&2
sinfo >&2 || true
tail -n 30 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
