output "public_ip" {
  description = "The Elastic IP the NAT (or the pair) egresses from; without elastic_ip, the public ENI's auto-assigned address (lost on stop/start)."
  value       = length(aws_eip.nat) > 0 ? aws_eip.nat[0].public_ip : aws_instance.nat[0].public_ip
}

output "security_group_id" {
  description = "ID of the NAT's security group (all protocols from the private subnets, VRRP and conntrackd within a pair)."
  value       = aws_security_group.nat.id
}

output "instance_ids" {
  description = "IDs of the NAT instance(s): one, or two with high_availability (the first starts active)."
  value       = aws_instance.nat[*].id
}

output "private_eni_id" {
  description = "ID of the ENI route_tables point at: the private ENI (device index 1; the first NAT's with a pair), or the only ENI in single-eni mode."
  value       = local.route_eni
}

output "ha_policy_json" {
  description = "The pair's minimal IAM policy (doc/high-availability.md) as JSON, to attach to your own role when you pass iam_profile."
  value       = data.aws_iam_policy_document.ha.json
}
