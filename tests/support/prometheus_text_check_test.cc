// The Prometheus text checker must accept valid expositions and catch each
// kind of mistake, or tests that rely on it would pass vacuously.

#include "prometheus_text_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace tally::prom {
namespace {

// Passes if the checker reports at least one error containing `fragment`.
::testing::AssertionResult Rejects(const std::string& text, const std::string& fragment,
                                   const CheckOptions& options = {}) {
  CheckResult r = Check(text, options);
  for (const std::string& e : r.errors) {
    if (e.find(fragment) != std::string::npos) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no error containing '" << fragment << "'; errors:\n" << r.ErrorText();
}

const char kGood[] =
    "# HELP http_requests_total The total number of HTTP requests.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
    "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
    "\n"
    "# A plain comment.\n"
    "# HELP msdos_file_access_time_seconds Escaped \\\\ and \\n in help.\n"
    "# TYPE msdos_file_access_time_seconds gauge\n"
    "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} "
    "1.458255915e9\n"
    "# HELP metric_without_labels A gauge.\n"
    "# TYPE metric_without_labels gauge\n"
    "metric_without_labels 12.47\n"
    "# HELP odd_values Special values.\n"
    "# TYPE odd_values gauge\n"
    "odd_values{v=\"nan\"} NaN\n"
    "odd_values{v=\"pinf\"} +Inf\n"
    "odd_values{v=\"ninf\"} -Inf\n"
    "odd_values{v=\"neg\"} -3.5e-3\n"
    "odd_values{v=\"utf8\",trailing=\"comma\",} .5\n"
    "odd_values{v=\"ü – 日本\"} 1\n"
    "# HELP http_request_duration_seconds A histogram of the request duration.\n"
    "# TYPE http_request_duration_seconds histogram\n"
    "http_request_duration_seconds_bucket{le=\"0.05\"} 24054\n"
    "http_request_duration_seconds_bucket{le=\"0.1\"} 33444\n"
    "http_request_duration_seconds_bucket{le=\"0.2\"} 100392\n"
    "http_request_duration_seconds_bucket{le=\"+Inf\"} 144320\n"
    "http_request_duration_seconds_sum 53423\n"
    "http_request_duration_seconds_count 144320\n"
    "http_request_duration_seconds_bucket{route=\"/x\",le=\"1e-05\"} 0\n"
    "http_request_duration_seconds_bucket{route=\"/x\",le=\"+Inf\"} 2\n"
    "http_request_duration_seconds_sum{route=\"/x\"} 0.5\n"
    "http_request_duration_seconds_count{route=\"/x\"} 2\n"
    "# HELP rpc_duration_seconds A summary.\n"
    "# TYPE rpc_duration_seconds summary\n"
    "rpc_duration_seconds{quantile=\"0.01\"} 3102\n"
    "rpc_duration_seconds{quantile=\"0.99\"} 76656\n"
    "rpc_duration_seconds_sum 1.7560473e+07\n"
    "rpc_duration_seconds_count 2693\n";

TEST(PrometheusTextCheck, AcceptsTheFormatsOwnExamples) {
  CheckResult r = Check(kGood);
  EXPECT_TRUE(r.ok()) << r.ErrorText();
  ASSERT_NE(r.Find("http_requests_total", {{"code", "400"}, {"method", "post"}}), nullptr);
  EXPECT_EQ(r.Find("http_requests_total", {{"code", "400"}, {"method", "post"}})->value, 3);
  const Sample* path = r.Find("msdos_file_access_time_seconds",
                              {{"path", "C:\\DIR\\FILE.TXT"}, {"error", "Cannot find file:\n\"FILE.TXT\""}});
  ASSERT_NE(path, nullptr) << "label values are unescaped";
  EXPECT_DOUBLE_EQ(path->value, 1.458255915e9);
  EXPECT_TRUE(std::isnan(r.Find("odd_values", {{"v", "nan"}})->value));
  EXPECT_TRUE(std::isinf(r.Find("odd_values", {{"v", "pinf"}})->value));
  EXPECT_EQ(r.Find("http_request_duration_seconds_count", {{"route", "/x"}})->value, 2);
  ASSERT_NE(r.FindFamily("msdos_file_access_time_seconds"), nullptr);
  EXPECT_EQ(r.FindFamily("msdos_file_access_time_seconds")->help, "Escaped \\ and \n in help.");
  EXPECT_EQ(r.FindFamily("http_request_duration_seconds")->type, "histogram");
  EXPECT_EQ(r.FindFamily("rpc_duration_seconds")->type, "summary");
}

TEST(PrometheusTextCheck, EmptyTextIsValid) { EXPECT_TRUE(Check("").ok()); }

TEST(PrometheusTextCheck, RequiresTrailingNewline) {
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na 1", "does not end with a newline"));
}

TEST(PrometheusTextCheck, RejectsCarriageReturns) {
  EXPECT_TRUE(Rejects("# HELP a A.\r\n# TYPE a gauge\na 1\n", "carriage return"));
}

TEST(PrometheusTextCheck, RequiresHelpAndTypeBeforeSamples) {
  EXPECT_TRUE(Rejects("# HELP a A.\na 1\n", "without a preceding # TYPE"));
  EXPECT_TRUE(Rejects("# TYPE a gauge\na 1\n", "without a preceding # HELP"));
  EXPECT_TRUE(Rejects("a 1\n# HELP a A.\n# TYPE a gauge\n", "after its samples"));
  CheckOptions lax;
  lax.require_help = lax.require_type = false;
  EXPECT_TRUE(Check("a 1\n", lax).ok());
  EXPECT_TRUE(Rejects("a 1\n# TYPE a gauge\n", "after its samples", lax));
}

TEST(PrometheusTextCheck, AtMostOneHelpAndTypePerFamily) {
  EXPECT_TRUE(Rejects("# HELP a A.\n# HELP a B.\n# TYPE a gauge\na 1\n", "second # HELP"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\n# TYPE a counter\na 1\n", "second # TYPE"));
}

TEST(PrometheusTextCheck, RejectsUnknownTypesAndBadHelpEscapes) {
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a meter\na 1\n", "unknown type 'meter'"));
  EXPECT_TRUE(Rejects("# HELP a A \\t tab.\n# TYPE a gauge\na 1\n", "invalid escape in # HELP"));
  EXPECT_TRUE(Rejects("# HELP 0a A.\n", "invalid metric name"));
}

TEST(PrometheusTextCheck, RejectsBadNames) {
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na-b 1\n", "invalid character after metric name"));
  EXPECT_TRUE(Rejects("9a 1\n", "invalid metric name"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{9x=\"1\"} 1\n", "invalid label name"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{__name__=\"1\"} 1\n", "reserved label name"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n", "repeated"));
}

TEST(PrometheusTextCheck, RejectsBadLabelValues) {
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{x=\"1\\t\"} 1\n", "invalid escape"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{x=\"1} 1\n", "unterminated value"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{x=1} 1\n", "expected '\"'"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{x=\"1\" y=\"2\"} 1\n", "expected ',' or '}'"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{x=\"1\"\n", "unterminated"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{x=\"\xff\"} 1\n", "not UTF-8"));
}

TEST(PrometheusTextCheck, RejectsBadValuesAndTimestamps) {
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na\n", "invalid value ''"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na 1,5\n", "invalid value"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na inf\n", "invalid value"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na 1e\n", "invalid value"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na 1 12.5\n", "invalid timestamp"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na 1 2 3\n", "extra text"));
}

TEST(PrometheusTextCheck, RejectsNegativeCounters) {
  EXPECT_TRUE(Rejects("# HELP a_total A.\n# TYPE a_total counter\na_total -1\n", "negative or NaN"));
  EXPECT_TRUE(Rejects("# HELP a_total A.\n# TYPE a_total counter\na_total NaN\n", "negative or NaN"));
}

TEST(PrometheusTextCheck, RejectsDuplicateSeriesInAnyLabelOrder) {
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", "duplicate series"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na 1\na 2\n", "duplicate series"));
}

TEST(PrometheusTextCheck, RequiresFamiliesToBeContiguous) {
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\n# HELP b B.\n# TYPE b gauge\na{x=\"1\"} 1\nb 1\na{x=\"2\"} 1\n",
                      "are not together"));
}

const char kHistogramHead[] = "# HELP h A histogram.\n# TYPE h histogram\n";

TEST(PrometheusTextCheck, AcceptsAMinimalHistogram) {
  std::string text = std::string(kHistogramHead) + "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n";
  CheckResult r = Check(text);
  EXPECT_TRUE(r.ok()) << r.ErrorText();
}

TEST(PrometheusTextCheck, ChecksHistogramStructure) {
  const std::string head = kHistogramHead;
  EXPECT_TRUE(Rejects(head + "h 1\n", "without _bucket, _sum or _count"));
  EXPECT_TRUE(Rejects(head + "h_bucket 1\nh_sum 1\nh_count 1\n", "without an 'le' label"));
  EXPECT_TRUE(
      Rejects(head + "h_bucket{le=\"x\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "invalid 'le' value"));
  EXPECT_TRUE(Rejects(head + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "not le=\"+Inf\""));
  EXPECT_TRUE(
      Rejects(head + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
              "not strictly ascending"));
  EXPECT_TRUE(
      Rejects(head + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "bucket counts decrease"));
  EXPECT_TRUE(Rejects(head + "h_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 2\n", "_count differs"));
  EXPECT_TRUE(Rejects(head + "h_bucket{le=\"+Inf\"} 3\nh_count 3\n", "has no _sum"));
  EXPECT_TRUE(Rejects(head + "h_bucket{le=\"+Inf\"} 3\nh_sum 3\n", "has no _count"));
  EXPECT_TRUE(Rejects(head + "h_sum 3\nh_count 3\n", "has no buckets"));
  // Each label set is its own histogram.
  EXPECT_TRUE(Rejects(head + "h_bucket{c=\"a\",le=\"+Inf\"} 1\nh_sum{c=\"a\"} 1\nh_count{c=\"a\"} 1\n"
                             "h_bucket{c=\"b\",le=\"+Inf\"} 1\nh_sum{c=\"b\"} 1\nh_count{c=\"b\"} 2\n",
                      "h{c=\"b\"}: _count differs"));
  EXPECT_TRUE(Rejects(head + "h_bucket{le=\"+Inf\"} -1\nh_sum 1\nh_count -1\n", "negative or NaN"));
}

TEST(PrometheusTextCheck, HistogramSamplesBeforeTheirTypeAreCaught) {
  EXPECT_TRUE(Rejects("h_bucket{le=\"+Inf\"} 0\n# HELP h H.\n# TYPE h histogram\n", "after its samples"));
}

TEST(PrometheusTextCheck, ReservedLabelsOutsideTheirTypes) {
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{le=\"1\"} 1\n", "no histogram bucket"));
  EXPECT_TRUE(Rejects("# HELP a A.\n# TYPE a gauge\na{quantile=\"1\"} 1\n", "no summary"));
  EXPECT_TRUE(Rejects("# HELP s S.\n# TYPE s summary\ns 1\ns_sum 1\ns_count 1\n", "needs a 'quantile'"));
  EXPECT_TRUE(Rejects("# HELP s S.\n# TYPE s summary\ns{quantile=\"2\"} 1\n", "needs a 'quantile'"));
}

}  // namespace
}  // namespace tally::prom
