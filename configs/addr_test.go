package configs

import "testing"

func TestNormalizeBMCAddress(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "10.0.0.1", want: "10.0.0.1:623"},
		{in: "10.0.0.1:6230", want: "10.0.0.1:6230"},
		{in: "bmc1.oob.example.net", want: "bmc1.oob.example.net:623"},
		{in: "bmc1.oob.example.net.", want: "bmc1.oob.example.net.:623"},
		{in: "bmc1:623", want: "bmc1:623"},
		{in: "fd00::21", want: "[fd00::21]:623"},
		{in: "[fd00::21]", want: "[fd00::21]:623"},
		{in: "[fd00::21]:624", want: "[fd00::21]:624"},
		{in: "fe80::1%eth0", want: "[fe80::1%eth0]:623"},
		{in: "", wantErr: "required: the BMC's host or host:port"},
		{in: ":623", wantErr: `invalid address ":623": the host is missing`},
		{in: "10.0.0.1:", wantErr: `invalid address "10.0.0.1:": the port is missing`},
		{in: "10.0.0.1:0", wantErr: `invalid address "10.0.0.1:0": port 0 is out of range 1-65535`},
		{in: "10.0.0.1:65536", wantErr: `invalid address "10.0.0.1:65536": port 65536 is out of range 1-65535`},
		{in: "10.0.0.1:-1", wantErr: `invalid address "10.0.0.1:-1": port "-1" is not a number`},
		{in: "10.0.0.1:ipmi", wantErr: `invalid address "10.0.0.1:ipmi": port "ipmi" is not a number`},
		{in: "fd00::21::1", wantErr: `invalid address "fd00::21::1": want host or host:port`},
		{in: "bmc_1", wantErr: `invalid address "bmc_1": the host is not a valid IP address or host name`},
		{in: "-bmc", wantErr: `invalid address "-bmc": the host is not a valid IP address or host name`},
		{in: "bmc..example", wantErr: `invalid address "bmc..example": the host is not a valid IP address or host name`},
		{in: "ｂｍｃ1", wantErr: `invalid address "ｂｍｃ1": the host is not a valid IP address or host name`},
		{in: "http://bmc1", wantErr: `invalid address "http://bmc1": port "//bmc1" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := normalizeBMCAddress(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("normalizeBMCAddress(%q) = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("normalizeBMCAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCheckListenAddr(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"127.0.0.1:2222", true},
		{":2222", true},
		{"0.0.0.0:22", true},
		{"[::]:2222", true},
		{"[::1]:2222", true},
		{"localhost:2222", true},
		{"127.0.0.1", false},
		{"127.0.0.1:0", false},
		{"::1:2222", false},
		{"127.0.0.1:22a", false},
		{"local host:22", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := checkListenAddr(tt.in); (err == nil) != tt.ok {
			t.Errorf("checkListenAddr(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
