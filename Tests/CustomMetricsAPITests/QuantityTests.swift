import CustomMetricsAPI
import Testing

@Suite("Quantity: canonical Kubernetes strings from milli-units")
struct QuantityTests {
    @Test(arguments: [
        (Int64(0), "0"),
        (1, "1m"),
        (999, "999m"),
        (1000, "1"),
        (1500, "1500m"),
        (2000, "2"),
        (10_000, "10"),
        (999_999, "999999m"),
        (1_000_000, "1k"),
        (1_500_000, "1500"),
        (1_234_567, "1234567m"),
        (10_000_000, "10k"),
        (1_000_000_000, "1M"),
        (1_000_000_000_000, "1G"),
        (1_000_000_000_000_000, "1T"),
        (-1, "-1m"),
        (-2000, "-2"),
        (-1_000_000, "-1k"),
        (Int64.max, "9223372036854775807m"),
        (Int64.min + 1, "-9223372036854775807m"),
    ])
    func fromMilli(milli: Int64, expected: String) {
        #expect(Quantity(milli: milli).description == expected)
    }

    @Test(arguments: [
        ("0", "0"),
        ("-0", "0"),
        ("0.0", "0"),
        ("1", "1"),
        ("1.5", "1500m"),
        ("0.25", "250m"),
        ("0.0004", "0"),
        ("0.0005", "1m"),
        ("-0.0005", "-1m"),
        ("-0.0004", "0"),
        ("1.0005", "1001m"),
        ("1.00049999", "1"),
        ("0.7895263157894737", "790m"),
        ("2.5", "2500m"),
        ("1234.567", "1234567m"),
        ("1000", "1k"),
        ("1e3", "1k"),
        ("1.5e+06", "1500k"),
        ("1e-3", "1m"),
        ("2.5E-2", "25m"),
        ("1e21", "1e21"),
        ("1.7976931348623157e+308", "179769313486231570e291"),
        ("999.9995", "1k"),
        ("+3", "3"),
        (".5", "500m"),
        ("5.", "5"),
    ])
    func fromPrometheusText(text: String, expected: String) {
        #expect(Quantity(decimal: text)?.description == expected)
    }

    @Test(arguments: ["NaN", "+Inf", "-Inf", "Inf", "nan", "", "-", ".", "1e", "1e+", "0x10", "1,5", "1.2.3", "1e9999", " 1"])
    func rejectsNonFinite(text: String) {
        #expect(Quantity(decimal: text) == nil)
    }

    @Test func milliValueRoundTrips() {
        #expect(Quantity(decimal: "1.5")?.milliValue == 1500)
        #expect(Quantity(decimal: "-2")?.milliValue == -2000)
        #expect(Quantity(decimal: "1e30")?.milliValue == nil)
    }
}
