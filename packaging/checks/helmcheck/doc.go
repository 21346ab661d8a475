// Package helmcheck checks the Helm chart in packaging/helm/warden where no
// cluster runs: its tests render the chart with helm (WARDEN_HELM, installed
// by `make helm-check`) for every values file in the chart's ci/ folder,
// decode every object strictly into the Kubernetes API's Go types (k8s.io/api,
// and the Prometheus Operator's for the ServiceMonitor) as the API server
// would, unknown and duplicate fields being errors, and assert what the chart
// promises: the node's namespaces, a read-only host root, a locked-down
// container, certificates and web config from volumes, a readiness probe on a
// public path, and a ServiceMonitor that verifies the server certificate and
// authenticates.
package helmcheck
