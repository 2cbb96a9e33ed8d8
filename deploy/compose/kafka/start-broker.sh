#!/bin/sh
# Runs in the apache/kafka container before the image's own start script. The image turns
# KAFKA_* variables into server.properties but drops every value that contains "=", so the
# broker's JAAS config (the static PLAIN users `admin` and `controller`) has to be a file:
# written here from ADMIN_PASSWORD, with a client config for the healthcheck beside it.
set -eu
: "${ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD (compose.yaml has a dev default)}"
case "$ADMIN_PASSWORD" in
  *[!A-Za-z0-9._~-]*) echo "KAFKA_ADMIN_PASSWORD: use letters, digits and ._~- only" >&2; exit 1 ;;
esac
umask 077
plain=org.apache.kafka.common.security.plain.PlainLoginModule
scram=org.apache.kafka.common.security.scram.ScramLoginModule

# Client listeners: node principals by SCRAM-SHA-512 (created by provisioning), the admin by
# PLAIN. The controller listener accepts only the static `controller` user.
cat > /opt/kafka/config/broker_jaas.conf <<JAAS
KafkaServer {
  $plain required
    username="admin" password="$ADMIN_PASSWORD" user_admin="$ADMIN_PASSWORD";
  $scram required;
};
controller.KafkaServer {
  $plain required
    username="controller" password="$ADMIN_PASSWORD" user_controller="$ADMIN_PASSWORD";
};
JAAS

cat > /opt/kafka/config/admin-client.properties <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=$plain required username="admin" password="$ADMIN_PASSWORD";
PROPS

unset ADMIN_PASSWORD
exec /etc/kafka/docker/run
