"""The member's and cadre's web portal of one node: server-rendered pages over the node's
service APIs, called with the signed-in user's token. It keeps no database."""
