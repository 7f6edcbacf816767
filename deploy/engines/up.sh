#!/usr/bin/env bash
# Starts Kafka 3.9 (KRaft, one node, 127.0.0.1:9092) and Elasticsearch 8.14 (one node, 127.0.0.1:9200,
# security off) in the background, fetching them from Maven Central on first use (cached under ~/.m2).
# Safe to call twice: an engine that already answers is left alone. Exits non-zero, with the last lines
# of the engine's log, when an engine cannot start.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
engines=${DEFWATCH_ENGINES_DIR:-$root/.engines}
kafka_port=${DEFWATCH_KAFKA_PORT:-9092}
controller_port=$((kafka_port + 1))
es_port=${DEFWATCH_ES_PORT:-9200}
es_transport=$((es_port + 100))
es_version=8.14.3
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
mkdir -p "$engines"

say() { printf 'engines: %s\n' "$*"; }
fail() {
    say "$1 could not start: $2"
    if [ -f "$3" ]; then say "last lines of $3:"; tail -n 25 "$3" | sed 's/^/    /'; fi
    exit 1
}
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

fetch() {
    if [ -d "$engines/kafka/lib" ] && [ -f "$engines/dist/elasticsearch-$es_version.zip" ]; then return; fi
    say "fetching Kafka and Elasticsearch from Maven Central (first use; cached in ~/.m2)"
    mvn -q -B -f "$here/pom.xml" -Dengines.dir="$engines" package >"$engines/fetch.log" 2>&1 ||
        fail "the engine download" "mvn failed" "$engines/fetch.log"
}

start_kafka() {
    local dir=$engines/kafka log=$engines/kafka/kafka.log pid=$engines/kafka.pid
    if alive "$pid" && port_open "$kafka_port"; then say "kafka already up on 127.0.0.1:$kafka_port"; return; fi
    if port_open "$kafka_port"; then fail kafka "port $kafka_port is taken by another process" /dev/null; fi
    mkdir -p "$dir/data"
    cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=4
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
message.max.bytes=16777216
PROPS
    local cp="$dir/lib/*"
    local jvm=(-Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true
        "-Dlog4j.configuration=file:$here/kafka-log4j.properties")
    if [ ! -f "$dir/data/meta.properties" ]; then
        local id
        id=$("$java_home/bin/java" -cp "$cp" "${jvm[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
        "$java_home/bin/java" -cp "$cp" "${jvm[@]}" kafka.tools.StorageTool format -t "$id" \
            -c "$dir/server.properties" >"$dir/format.log" 2>&1 || fail kafka "storage format failed" "$dir/format.log"
    fi
    setsid "$java_home/bin/java" -cp "$cp" "${jvm[@]}" kafka.Kafka "$dir/server.properties" >"$log" 2>&1 </dev/null &
    echo $! >"$pid"
    for _ in $(seq 1 120); do
        if port_open "$kafka_port"; then say "kafka up on 127.0.0.1:$kafka_port (log: $log)"; return; fi
        alive "$pid" || fail kafka "the process exited" "$log"
        sleep 1
    done
    fail kafka "no answer on port $kafka_port after 120 s" "$log"
}

start_elasticsearch() {
    local home=$engines/elasticsearch-$es_version log=$engines/elasticsearch.log pid=$engines/elasticsearch.pid
    if alive "$pid" && port_open "$es_port"; then say "elasticsearch already up on 127.0.0.1:$es_port"; return; fi
    if port_open "$es_port"; then fail elasticsearch "port $es_port is taken by another process" /dev/null; fi
    if [ ! -d "$home" ]; then
        python3 -m zipfile -e "$engines/dist/elasticsearch-$es_version.zip" "$engines" ||
            fail elasticsearch "cannot unpack the distribution" /dev/null
        chmod +x "$home"/bin/*
    fi
    mkdir -p "$engines/es-data" "$engines/es-logs"
    local run=()
    if [ "$(id -u)" = 0 ]; then
        # Elasticsearch refuses to run as root: run it as the unprivileged user nobody.
        chown -R nobody "$home" "$engines/es-data" "$engines/es-logs"
        run=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups env "HOME=$engines")
    fi
    setsid "${run[@]}" env ES_JAVA_HOME="$java_home" ES_JAVA_OPTS="-Xms1g -Xmx1g" "$home/bin/elasticsearch" \
        -E network.host=127.0.0.1 -E http.port="$es_port" -E transport.port="$es_transport" \
        -E discovery.type=single-node -E xpack.security.enabled=false -E cluster.name=defwatch \
        -E path.data="$engines/es-data" -E path.logs="$engines/es-logs" \
        -E cluster.routing.allocation.disk.threshold_enabled=false \
        >"$log" 2>&1 </dev/null &
    echo $! >"$pid"
    for _ in $(seq 1 180); do
        if python3 -c "import sys, urllib.request as u; sys.exit(0 if b'\"status\"' in u.urlopen('http://127.0.0.1:$es_port/_cluster/health', timeout=2).read() else 1)" 2>/dev/null; then
            say "elasticsearch up on 127.0.0.1:$es_port (log: $log)"; return
        fi
        alive "$pid" || fail elasticsearch "the process exited" "$log"
        sleep 1
    done
    fail elasticsearch "no answer on port $es_port after 180 s" "$log"
}

fetch
start_kafka
start_elasticsearch
