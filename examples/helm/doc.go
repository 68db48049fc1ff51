// Package helm holds the tests of the Helm chart in http5xx-exporter/. They
// run with the build tag helm (make helm-test), which first builds the pinned
// helm and the exporter into .bin/.
package helm
