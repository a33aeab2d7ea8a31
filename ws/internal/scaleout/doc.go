// Package scaleout holds only tests: the delivery and fault tests under
// load, in which the load tool's runner (tools/chatload/load) drives
// several in-process ws nodes of one deployment (wsnode, assembled as
// cmd/ws assembles them) while Redis pub/sub connections drop, a Redis
// Cluster fails over or a hash slot migrates. They live in the ws module
// because only ws may import its internal packages; ws requires the tool's
// module for these tests alone.
package scaleout
