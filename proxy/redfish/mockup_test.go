package redfish

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/proxy/bmctls"
)

// The DMTF Redfish Mockup Server, vendored unmodified, serving the DMTF
// rackmount1 mockup (also vendored, for the simulator) over TLS.
const (
	mockupServer = "testdata/mockup-server/run.sh"
	mockupDir    = "../../internal/sim/bmcsim/dmtf/public-rackmount1"
)

// startMockup runs the DMTF mockup server on a free loopback port and
// returns an endpoint pinned to its certificate.
func startMockup(t *testing.T) Endpoint {
	t.Helper()
	abs, err := filepath.Abs(mockupDir)
	if err != nil {
		t.Fatal(err)
	}
	return startMockupOf(t, abs)
}

// startMockupOf is startMockup serving the mockup in directory abs.
func startMockupOf(t *testing.T, abs string) Endpoint {
	t.Helper()
	ipmisim.RequireBinaries(t, "python3", "bash")
	dir := t.TempDir()
	certFile, keyFile, cert := writeCert(t, dir)
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
		cmd := exec.CommandContext(ctx, "bash", mockupServer, strconv.Itoa(port), certFile, keyFile, abs)
		cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("mockup-%d.log", attempt)))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
		stop := func() { cancel(); <-exited }
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := waitHTTPS(t, addr, exited); err == nil {
			t.Cleanup(stop)
			return Endpoint{Name: "mockup", URL: "https://" + addr, Username: "Administrator", Password: "mockup-Pw-7",
				TLS: bmctls.Verify{PinSHA256: bmctls.Fingerprint(cert)}}
		} else if attempt >= 2 {
			stop()
			out, _ := os.ReadFile(logf.Name())
			t.Fatalf("DMTF mockup server did not start: %v\n%s", err, out)
		}
		stop() // the port was taken meanwhile: try another
	}
}

// waitHTTPS polls addr until the service root answers, the process exits
// or a generous deadline passes.
func waitHTTPS(t *testing.T, addr string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	delay := 20 * time.Millisecond
	for {
		resp, err := hc.Get("https://" + addr + "/redfish/v1/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		timer := time.NewTimer(delay)
		select {
		case <-exited:
			timer.Stop()
			return errors.New("the mockup server exited")
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeCert(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	return certFile, keyFile, cert
}

// TestAgainstDMTFMockupServer runs every broker operation against the
// DMTF's own Redfish service: its 204 session login, @odata.id links, its
// expand support, its SEL paging (a nextLink that repeats the page), the
// boot override PATCH, and virtual media without actions (PATCH).
func TestAgainstDMTFMockupServer(t *testing.T) {
	ep := startMockup(t)
	b, logs := newBroker(t, Options{CycleOffWait: time.Second})
	ctx := t.Context()

	if st, err := b.PowerStatus(ctx, ep); err != nil || st != PowerStateOn {
		t.Fatalf("power status: %v %v", st, err)
	}
	info, err := b.Info(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	if info.Model != "3500" || info.SerialNumber != "437XR1138R2" || info.BIOSVersion != "P79 v1.45 (12/06/2017)" ||
		info.FirmwareVersion != "1.45.455b66-rev4" || info.Health != "ok" || info.SystemID != "437XR1138R2" || info.RedfishVersion != "1.15.0" {
		t.Errorf("info %+v", info)
	}
	sens, err := b.Sensors(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range sens {
		if s.Name == "CPU #1 Temperature" {
			th := s.Thresholds
			found = s.Value == "37" && s.Unit == "degrees C" && s.Status == "ok" && s.Health == "ok" && s.State == "enabled" && th != nil &&
				*th.UpperCaution == 42 && *th.UpperCritical == 45 && *th.UpperFatal == 50 && th.LowerCritical == nil
		}
	}
	if len(sens) < 40 || !found {
		t.Errorf("%d sensors, CPU #1 temperature found as expected: %v", len(sens), found)
	}
	sel, err := b.SEL(ctx, ep, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(sel) != 3 || sel[0].ID != "2" || sel[0].Log != "system/Log1" || sel[0].Event != "Upper Critical - going high: Temperature threshold exceeded" ||
		sel[0].Severity != "critical" || sel[2].Log != "manager/Log" && sel[1].Log != "manager/Log" {
		t.Errorf("SEL %+v", sel)
	}
	if two, _ := b.SEL(ctx, ep, 2); len(two) != 2 {
		t.Errorf("limit 2: %d entries", len(two))
	}

	boot, err := b.Boot(ctx, ep)
	if err != nil || boot.Target != "pxe" || boot.Enabled != BootOnce || boot.Mode != BootUEFI || len(boot.Supported) != 10 {
		t.Errorf("boot %+v %v", boot, err)
	}
	boot, err = b.SetBoot(ctx, ep, BootSet{Target: "cdrom", Enabled: BootPersistent})
	if err != nil || boot.Target != "cdrom" || boot.Enabled != BootPersistent || boot.Mode != BootUEFI {
		t.Errorf("boot after set %+v %v", boot, err)
	}
	if _, err := b.SetBoot(ctx, ep, BootSet{Target: "floppy"}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "it supports: none, pxe, cdrom, usb, disk, bios") {
		t.Errorf("floppy: %v", err)
	}

	if res, err := b.Power(ctx, ep, PowerOn); err != nil || strings.Join(res.ResetTypes, ",") != "On" {
		t.Errorf("power on: %+v %v", res, err)
	}
	if _, err := b.Power(ctx, ep, PowerReset); err != nil {
		t.Errorf("power reset: %v", err)
	}
	// No PowerCycle in the mockup's allowable values: off then on, but this
	// static service stays "On" after ForceOff, so the cycle stops there.
	res, err := b.Power(ctx, ep, PowerCycle)
	if err == nil || !strings.Contains(err.Error(), "did not report Off in time; it was not powered on again") || strings.Join(res.ResetTypes, ",") != "ForceOff" {
		t.Errorf("cycle on a static service: %+v %v", res, err)
	}

	media, err := b.Media(ctx, ep)
	if err != nil || len(media) != 2 || media[1].ID != "CD1" || !media[1].Inserted || media[1].Image != "redfish.dmtf.org/freeImages/freeOS.1.1.iso" {
		t.Fatalf("media %+v %v", media, err)
	}
	if _, err := b.InsertMedia(ctx, ep, "CD1", "https://10.9.9.9/x.iso"); err == nil || !strings.Contains(err.Error(), "eject it first") {
		t.Errorf("insert into a full slot: %v", err)
	}
	slot, err := b.EjectMedia(ctx, ep, "CD1")
	if err != nil || slot.Inserted {
		t.Errorf("eject (PATCH): %+v %v", slot, err)
	}
	slot, err = b.InsertMedia(ctx, ep, "", "https://10.9.9.9/images/os.iso?t=Secret-Token-99")
	if err != nil || !slot.Inserted || slot.Image != "https://10.9.9.9/images/os.iso" {
		t.Errorf("insert (PATCH): %+v %v", slot, err)
	}

	np, err := b.NetworkProtocols(ctx, ep)
	if err != nil || np["IPMI"].Enabled == nil || !*np["IPMI"].Enabled || np["SSDP"].Port != 1900 {
		t.Errorf("network protocols %+v %v", np, err)
	}
	fw, err := b.FirmwareInventory(ctx, ep)
	if err != nil || len(fw) != 3 || fw[0].Version != "1.45.455b66-rev4" {
		t.Errorf("firmware %+v %v", fw, err)
	}
	acc, err := b.Accounts(ctx, ep)
	if err != nil || len(acc) != 1 || acc[0].UserName != "Administrator" || acc[0].RoleID != "Administrator" {
		t.Errorf("accounts %+v %v", acc, err)
	}
	ss, err := b.Sessions(ctx, ep)
	own, foreign := 0, 0
	for _, s := range ss {
		if s.Own {
			own++
		} else if s.ID == "1234567890ABCDEF" {
			foreign++
		}
	}
	if err != nil || own != 1 || foreign != 1 {
		t.Errorf("sessions %+v %v", ss, err)
	}
	if st := b.Stats(); st.Logins != 1 || st.Relogins != 0 {
		t.Errorf("stats %+v: one login (the mockup answers 204 with a token)", st)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Logouts != 1 || st.Sessions != 0 {
		t.Errorf("after Close: %+v", st)
	}
	noSecrets(t, []string{logs.String(), fmt.Sprintf("%+v %+v", slot, media)}, "mockup-Pw-7", "Secret-Token-99", "1234567890ABCDEF")
}

// TestDMTFMockupThermalPowerFallback serves the DMTF mockup with its
// chassis' Sensors link taken out (a copy: the vendored mockup stays
// unmodified), so the broker reads the older Thermal and Power resources
// instead: readings, all three threshold levels and health as the mockup
// gives them.
func TestDMTFMockupThermalPowerFallback(t *testing.T) {
	src, err := filepath.Abs(mockupDir)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "rackmount1-no-sensors")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	chassis := filepath.Join(dst, "Chassis", "1U", "index.json")
	raw, err := os.ReadFile(chassis)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "Sensors")
	if raw, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(chassis, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	ep := startMockupOf(t, dst)
	b, _ := newBroker(t, Options{})
	sens, err := b.Sensors(t.Context(), ep)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Sensor{}
	for _, s := range sens {
		byName[s.Name] = s
	}
	if len(sens) < 7 {
		t.Fatalf("%d sensors from Thermal and Power: %+v", len(sens), sens)
	}
	cpu := byName["CPU1 Temp"]
	if th := cpu.Thresholds; cpu.Value != "41" || cpu.Unit != "degrees C" || cpu.Type != "Temperature" || cpu.Status != "ok" || th == nil ||
		*th.UpperCaution != 42 || *th.UpperCritical != 45 || *th.UpperFatal != 48 {
		t.Errorf("CPU1 Temp %+v %+v", cpu, cpu.Thresholds)
	}
	fan := byName["BaseBoard System Fan"]
	if th := fan.Thresholds; fan.Value != "2100" || fan.Type != "Fan" || th == nil || th.LowerFatal == nil || *th.LowerFatal != 0 {
		t.Errorf("fan %+v %+v", fan, fan.Thresholds)
	}
	vrm := byName["VRM1 Voltage"]
	if th := vrm.Thresholds; vrm.Value != "12" || vrm.Unit != "Volts" || th == nil || *th.UpperFatal != 15 {
		t.Errorf("VRM1 %+v %+v", vrm, vrm.Thresholds)
	}
	if cpu2 := byName["CPU2 Temp"]; cpu2.Value != "na" || cpu2.Status != "na" {
		t.Errorf("CPU2 Temp without a reading: %+v", cpu2)
	}
}
