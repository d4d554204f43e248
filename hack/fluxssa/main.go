// Command fluxssa drives Flux's apply engine (github.com/fluxcd/pkg/ssa) the way Flux does, as
// a peer of kgit in bench/:
//
//	fluxssa diff DIR    one server-side dry-run Diff per object, in order, as
//	                    `flux diff kustomization` does (flux2 internal/build/diff.go)
//	fluxssa apply DIR   ApplyAllStaged over every object, as kustomize-controller's
//	                    reconcile does (Namespaces and CRDs first, waited for; then the rest)
//
// DIR's *.yaml and *.yml files (recursively) are the objects; the cluster is $KUBECONFIG's
// current context. Both print one line per object that is (or would be) created or changed
// and end with "changes: N", which the bench checks.
package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The names kustomize-controller applies with, and the owner labels it sets on every object.
const (
	fieldManager = "kustomize-controller"
	ownerGroup   = "kustomize.toolkit.fluxcd.io"
	ownerName    = "bench"
	ownerNs      = "flux-system"
	// kustomize-controller's --concurrent-ssa default.
	concurrentSSA = 4
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "diff" && os.Args[1] != "apply") {
		fmt.Fprintln(os.Stderr, "usage: fluxssa diff|apply DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "fluxssa:", err)
		os.Exit(1)
	}
}

func run(verb, dir string) error {
	objects, err := readObjects(dir)
	if err != nil {
		return err
	}
	manager, err := newManager()
	if err != nil {
		return err
	}
	manager.SetOwnerLabels(objects, ownerName, ownerNs)
	ctx := context.Background()
	var changes []ssa.ChangeSetEntry
	if verb == "diff" {
		changes, err = diff(ctx, manager, objects)
	} else {
		changes, err = apply(ctx, manager, objects)
	}
	if err != nil {
		return err
	}
	count := 0
	for _, entry := range changes {
		if entry.Action == ssa.CreatedAction || entry.Action == ssa.ConfiguredAction {
			fmt.Println(entry.String())
			count++
		}
	}
	fmt.Printf("changes: %d\n", count)
	return nil
}

// newManager builds the client the way the flux CLI and kustomize-controller do: a
// controller-runtime client over a lazy discovery REST mapper, at their default rate limits.
func newManager() (*ssa.ResourceManager, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	config, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return nil, err
	}
	config.QPS, config.Burst = 50, 300 // --kube-api-qps and --kube-api-burst defaults
	kube, err := client.New(config, client.Options{})
	if err != nil {
		return nil, err
	}
	poller := polling.NewStatusPoller(kube, kube.RESTMapper(), polling.Options{})
	return ssa.NewResourceManager(kube, poller, ssa.Owner{Field: fieldManager, Group: ownerGroup}), nil
}

func diff(ctx context.Context, manager *ssa.ResourceManager, objects []*unstructured.Unstructured) ([]ssa.ChangeSetEntry, error) {
	sort.Sort(ssa.SortableUnstructureds(objects))
	options := ssa.DiffOptions{Exclusions: map[string]string{ownerGroup + "/reconcile": "disabled"}}
	var entries []ssa.ChangeSetEntry
	for _, obj := range objects {
		entry, _, _, err := manager.Diff(ctx, obj, options)
		if err != nil {
			return nil, err
		}
		entries = append(entries, *entry)
	}
	return entries, nil
}

func apply(ctx context.Context, manager *ssa.ResourceManager, objects []*unstructured.Unstructured) ([]ssa.ChangeSetEntry, error) {
	manager.SetConcurrency(concurrentSSA)
	options := ssa.DefaultApplyOptions()
	options.Force = true // kgit and kubectl --force-conflicts take fields over too
	options.WaitTimeout = 5 * time.Minute
	changeSet, err := manager.ApplyAllStaged(ctx, objects, options)
	if err != nil {
		return nil, err
	}
	return changeSet.Entries, nil
}

func readObjects(dir string) ([]*unstructured.Unstructured, error) {
	var objects []*unstructured.Unstructured
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if entry.IsDir() && strings.HasPrefix(entry.Name(), ".") && path != dir {
			return filepath.SkipDir
		}
		if entry.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		file, err := os.Open(path)
		if err != nil {
			return err
		}
		defer file.Close()
		read, err := utils.ReadObjects(file)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		objects = append(objects, read...)
		return nil
	})
	return objects, err
}
