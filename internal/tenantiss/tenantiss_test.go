package tenantiss

import "testing"

const entra = "https://login.microsoftonline.com/{tenantid}/v2.0"

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		template, iss, tenant string
		ok                    bool
	}{
		{entra, "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", "72f988bf-86f1-41af-91ab-2d7cd011db47", true},
		{entra, "https://login.microsoftonline.com/organizations/v2.0", "organizations", true},
		{entra, "https://login.microsoftonline.com//v2.0", "", false},
		{entra, "https://login.microsoftonline.com/a/b/v2.0", "", false},
		{entra, "https://login.microsoftonline.com/../v2.0", "", false},
		{entra, "https://login.microsoftonline.com/a%2fb/v2.0", "", false},
		{entra, "https://login.microsoftonline.com/a@evil/v2.0", "", false},
		{entra, "https://login.microsoftonline.com/t/v2.0/", "", false},
		{entra, "https://login.microsoftonline.com.evil/t/v2.0", "", false},
		{entra, "https://login.microsoftonline.com/v2.0", "", false}, // shorter than the fixed parts
		{entra, "https://login.microsoftonline.com/" + string(make([]byte, 65)) + "/v2.0", "", false},
		{"https://login.microsoftonline.com/tenant/v2.0", "https://login.microsoftonline.com/tenant/v2.0", "", false}, // not a template
		{"https://{tenantid}/{tenantid}", "https://a/a", "", false},
		{"https://{tenantid}.example.com/", "https://acme.example.com/", "", false}, // placeholder in the host
		{"https://{tenantid}", "https://attacker.example", "", false},
		{entra, "https://login.microsoftonline.com/a.b/v2.0", "", false},
		{"https://login.example/t-{tenantid}/v2.0", "https://login.example/t-acme/v2.0", "acme", true},
	} {
		tenant, ok := Match(tc.template, tc.iss)
		if ok != tc.ok || (ok && tenant != tc.tenant) {
			t.Errorf("Match(%q, %q) = %q, %v; want %q, %v", tc.template, tc.iss, tenant, ok, tc.tenant, tc.ok)
		}
		if ok && Fill(tc.template, tenant) != tc.iss {
			t.Errorf("Fill does not invert Match for %q", tc.iss)
		}
	}
}

func TestIsTemplateAndValidTenant(t *testing.T) {
	if !IsTemplate(entra) || IsTemplate("https://x/") || IsTemplate("https://{tenantid}/{tenantid}") || IsTemplate("https://{tenantid}/x") || IsTemplate("{tenantid}") || IsTemplate("https://a.{tenantid}.b/") {
		t.Error("IsTemplate")
	}
	for s, want := range map[string]bool{"72f988bf-86f1-41af-91ab-2d7cd011db47": true, "common": true, "a_b-c": true, "a.b": false,
		"": false, ".": false, "..": false, "a/b": false, "a:b": false, "a b": false, "ä": false, "a?": false, "a#": false} {
		if ValidTenant(s) != want {
			t.Errorf("ValidTenant(%q) = %v", s, !want)
		}
	}
}
