//! Distance between two points on the Earth: the haversine formula, ten lines — a geo crate's
//! index is not worth it when each request has a handful of neighbours in space and time.

/// Metres between two points given in degrees.
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_M: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_M * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        // One degree of latitude is about 111.2 km everywhere.
        let d = distance_m(45.0, 39.0, 46.0, 39.0);
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
        assert_eq!(distance_m(45.03, 38.97, 45.03, 38.97), 0.0);
        // Krasnodar: Красная 122 to a point ~300 m north.
        let d = distance_m(45.0355, 38.9753, 45.0382, 38.9753);
        assert!((d - 300.0).abs() < 2.0, "{d}");
    }
}
